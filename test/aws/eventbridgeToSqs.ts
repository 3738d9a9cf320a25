// Test wiring on moto: an event bus with a rule on `{"source":[source]}` whose target is a new
// SQS queue, and a reader that drains the queue (EventBridge-to-SQS bodies parsed as JSON).
import {
  CreateEventBusCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** The EventBridge event as an SQS target receives it. */
export interface DeliveredEvent {
  id: string;
  source: string;
  "detail-type": string;
  time: string;
  detail: { id: string; type: string; occurredAt: string; payload: Record<string, unknown> };
}

export interface BusToQueue {
  busName: string;
  queueUrl: string;
}

/** Creates bus `busName`, a queue, and a rule routing events of `source` on it to the queue. */
export async function busToQueue(
  events: EventBridgeClient,
  sqs: SQSClient,
  busName: string,
  source: string,
): Promise<BusToQueue> {
  await events.send(new CreateEventBusCommand({ Name: busName }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${busName}-queue` }));
  if (QueueUrl === undefined) throw new Error("CreateQueue returned no URL");
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: `${busName}-to-queue`,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: [source] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: `${busName}-to-queue`,
      EventBusName: busName,
      Targets: [{ Id: "queue", Arn: Attributes?.QueueArn }],
    }),
  );
  return { busName, queueUrl: QueueUrl };
}

/**
 * Receives and deletes messages until the queue answers empty (a 1 s long poll), or `expected`
 * were read. The count is asserted by the caller, so a missing message fails the test.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  expected = Number.POSITIVE_INFINITY,
): Promise<DeliveredEvent[]> {
  const delivered: DeliveredEvent[] = [];
  while (delivered.length < expected) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) delivered.push(JSON.parse(message.Body ?? "null"));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
  return delivered;
}
