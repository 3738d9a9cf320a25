// `@heraldjs/aws`: Herald on AWS: the DynamoDB event store, outbox and inbox, the EventBridge publisher, and the EventBridge and SQS delivery transports.

export {
  createEventBridgePublisher,
  type EventBridgePublisher,
  type EventBridgePublisherOptions,
} from "./bus/eventbridge/publisher.js";
export { type AwsClientOptions, awsClientConfig } from "./core/awsClientConfig.js";
export {
  createDynamoDedupeStore,
  type DynamoDedupeStoreOptions,
} from "./store/dynamodb/dedupeStore.js";
