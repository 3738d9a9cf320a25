// `@heraldjs/aws`: Herald on AWS: the DynamoDB event store, outbox and inbox, the EventBridge publisher, and the EventBridge and SQS delivery transports.

export {
  createEventBridgePublisher,
  type EventBridgePublisher,
  type EventBridgePublisherOptions,
} from "./bus/eventbridge/publisher.js";
export { type AwsClientOptions, awsClientConfig } from "./core/awsClientConfig.js";
export type { AwsTransportOptions } from "./delivery/transports/awsTransportOptions.js";
export {
  createEventBridgeTransport,
  type HeraldEventDetail,
} from "./delivery/transports/eventbridge.js";
export {
  DEFAULT_EVENTBRIDGE_SOURCE,
  type EventBridgeTarget,
  parseEventBridgeTarget,
} from "./delivery/transports/eventbridgeTarget.js";
export { createSqsTransport, MAX_SQS_MESSAGE_BYTES } from "./delivery/transports/sqs.js";
export {
  type ParseSqsTargetOptions,
  parseSqsTarget,
  type SqsTarget,
} from "./delivery/transports/sqsTarget.js";
export {
  createDynamoDedupeStore,
  type DynamoDedupeStoreOptions,
} from "./store/dynamodb/dedupeStore.js";
export {
  createDynamoEventStore,
  type DynamoEventStoreOptions,
} from "./store/dynamodb/eventStore.js";
export {
  type DynamoTableNames,
  type EnsuredTable,
  ensureTables,
  ensureTablesAt,
  type TableDefinition,
  tableDefinitions,
} from "./store/dynamodb/tables.js";
