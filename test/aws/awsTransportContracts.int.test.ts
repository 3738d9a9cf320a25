// The transport contract on moto for the SQS and EventBridge transports: the peer is an SQS
// queue (for EventBridge, the queue a rule on the bus feeds). A missing queue or bus is the
// transient failure. Neither has a permanent failure a target can provoke (only a message SQS or
// EventBridge cannot carry is rejected, tested in the transports' own files), and moto cannot be
// made to withhold an answer while the transport's endpoint is fixed, so those cases do not apply.
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createEventBridgeTransport } from "../../packages/aws/src/delivery/transports/eventbridge.js";
import { createSqsTransport } from "../../packages/aws/src/delivery/transports/sqs.js";
import { type PeerSeen, type TransportHarness, transportContract } from "../contracts/transport.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("SQS and EventBridge transport contracts");

const SOURCE = "com.example.contract";

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("AWS transport contracts on moto", () => {
  let moto: MotoServer;
  let sqs: SQSClient;
  let events: EventBridgeClient;
  let sqsQueue: string;
  let busQueue: string;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({ ...awsClientConfig(moto.aws), useQueueUrlAsEndpoint: false });
    events = new EventBridgeClient(awsClientConfig(moto.aws));
    sqsQueue = await createQueue("contract");
    busQueue = await createQueue("contract-bus");
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: busQueue, AttributeNames: ["QueueArn"] }),
    );
    await events.send(new CreateEventBusCommand({ Name: "contract" }));
    await events.send(
      new PutRuleCommand({
        Name: "to-queue",
        EventBusName: "contract",
        EventPattern: JSON.stringify({ source: [SOURCE] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "to-queue",
        EventBusName: "contract",
        Targets: [{ Id: "queue", Arn: Attributes?.QueueArn }],
      }),
    );
  }, 60_000);

  afterAll(async () => {
    sqs?.destroy();
    events?.destroy();
    await moto?.stop();
  });

  async function createQueue(name: string): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error("no queue URL");
    return QueueUrl;
  }

  /** A reader of `queueUrl` that keeps everything it took (received messages stay hidden). */
  function reader(queueUrl: string, read: (message: Message) => PeerSeen) {
    const seen: PeerSeen[] = [];
    return async (): Promise<PeerSeen[]> => {
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
            VisibilityTimeout: 3600,
          }),
        );
        if (Messages.length === 0) return [...seen];
        seen.push(...Messages.map(read));
      }
    };
  }

  const capabilities: TransportHarness["capabilities"] = {
    signs: true,
    // QueueDoesNotExist / ResourceNotFoundException: AWS answered 400.
    transient: { outcome: "retry", reason: "http_error" },
    permanent: null,
    hangs: false,
    idOf: ({ message }) => message.id,
  };

  transportContract(
    "sqs",
    async (): Promise<TransportHarness> => ({
      transport: createSqsTransport({ aws: moto.aws }),
      target: (behaviour) => (behaviour === "succeed" ? sqsQueue : `${sqsQueue}-missing`),
      received: reader(sqsQueue, (message) => {
        const headers = Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]),
        );
        return { id: headers["webhook-id"] ?? "", headers, body: message.Body ?? "" };
      }),
      release: () => {},
      dispose: async () => {},
      capabilities,
    }),
    { permanent: true, hangs: true },
  );

  transportContract(
    "eventbridge",
    async (): Promise<TransportHarness> => ({
      transport: createEventBridgeTransport({ aws: moto.aws }),
      target: (behaviour) =>
        `eventbridge://${behaviour === "succeed" ? "contract" : "missing"}?source=${SOURCE}`,
      received: reader(busQueue, (message) => {
        const { detail } = JSON.parse(message.Body ?? "{}") as {
          detail: { id: string; data: unknown; webhook: Record<string, string> };
        };
        return { id: detail.id, headers: detail.webhook, body: JSON.stringify(detail.data) };
      }),
      release: () => {},
      dispose: async () => {},
      capabilities,
    }),
    { permanent: true, hangs: true },
  );
});
