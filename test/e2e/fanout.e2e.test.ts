// One message through the built `herald serve` reaches one endpoint of every transport — http,
// nats, function, websocket, grpc, rabbitmq, redis-streams, nats-core, sqs, eventbridge — each a
// real peer on loopback (the machine's NATS, RabbitMQ and Redis, a core NATS subscriber; a
// node:http server, a ws listener, a grpc-js server, a function module; moto's SQS queue, and
// its EventBridge bus whose rule routes to a second queue), and every peer's copy verifies with
// Herald's verifyWebhook and that endpoint's secret (the WebSocket and gRPC listeners verify it
// themselves, with the packages' listener helpers; SQS's copy is the body and the message
// attributes, EventBridge's the event's detail.webhook headers and detail.data's JSON).
//
// What breaking it shows: a transport not wired into serve dead-letters (`transport.unavailable`),
// an unsigned transport fails verification, a wrong target check refuses the endpoint (not 201).
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Server as GrpcServer, ServerCredentials } from "@grpc/grpc-js";
import { connect as connectNats } from "@nats-io/transport-node";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { ENDPOINT_TRANSPORTS } from "../../packages/core/src/model/constants.js";
import type { EndpointTransport } from "../../packages/core/src/model/deliveryRecords.js";
import { addHeraldListener } from "../../packages/grpc/src/delivery/transports/grpcListener.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import {
  createWebSocketListener,
  type WebSocketListener,
} from "../../packages/websocket/src/inbound/websocketListener.js";
import { busToQueue, drainQueue } from "../aws/eventbridgeToSqs.js";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import { api, makeTempDir, waitUntil } from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available =
  (await serviceAvailable("nats")) &&
  (await serviceAvailable("rabbitmq")) &&
  (await serviceAvailable("redis")) &&
  motoAvailable("the sqs and eventbridge peers of the fan-out");

/** What a peer got: the headers and the exact body, for verifyWebhook. */
interface Copy {
  headers: Record<string, string>;
  body: string;
}

// The function module: records the signed message the transport hands it (context.signed).
const FUNCTIONS = `
import { appendFileSync } from "node:fs";
export function record(message, context) {
  appendFileSync(process.env.RECORD_FILE, JSON.stringify({
    headers: context.signed?.headers ?? {}, body: context.signed?.body.toString("utf8") ?? "",
  }) + "\\n");
  return { recorded: message.id };
}
`;

// Every transport an endpoint can name: the test fails when one is added without a peer here.
const TRANSPORTS = ENDPOINT_TRANSPORTS;
type Kind = EndpointTransport;

const cleanups: Array<() => Promise<unknown>> = [];
let moto: MotoServer | undefined;
beforeAll(async () => {
  if (available) moto = await startMoto();
}, 60_000);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await moto?.stop();
});

// Skipped only when NATS, RabbitMQ or Redis is missing, or moto_server is not installed; under
// CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable and motoAvailable throw instead.
describe.skipIf(!available)("one message, every transport, through herald serve", () => {
  it("reaches one endpoint of each transport, and each copy verifies with its endpoint's secret", async () => {
    const secrets = Object.fromEntries(
      TRANSPORTS.map((kind) => [kind, generateSecret("standard")]),
    ) as Record<Kind, string>;
    const copies: Partial<Record<Kind, Copy>> = {};
    const verifiedByListener: Kind[] = [];
    const suffix = randomUUID().slice(0, 8);

    // http: a node:http server keeps the request.
    const http: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        copies.http = { headers, body: Buffer.concat(chunks).toString("utf8") };
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));

    // nats: a stream of this test's own.
    const stream: TestStream = await createTestStream("fanout");
    cleanups.push(() => stream.delete());

    // websocket: the package's listener helper verifies each frame before it acks.
    const ws: WebSocketListener = await createWebSocketListener({
      host: "127.0.0.1",
      port: 0,
      secret: secrets.websocket,
      onDelivery: (delivery) => {
        copies.websocket = { headers: { ...delivery.headers }, body: delivery.body };
        verifiedByListener.push("websocket");
      },
    });
    cleanups.push(() => ws.close());

    // grpc: a grpc-js server with the package's listener helper (it verifies, then OK).
    const grpc = new GrpcServer();
    addHeraldListener(grpc, {
      secret: secrets.grpc,
      onDelivery: (delivery) => {
        copies.grpc = {
          headers: { ...delivery.headers },
          body: Buffer.from(delivery.body).toString("utf8"),
        };
        verifiedByListener.push("grpc");
        return undefined;
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    cleanups.push(async () => grpc.forceShutdown());

    // rabbitmq: an exchange and a bound queue of this test's own.
    const amqpConnection = await amqp.connect(serviceUrl("rabbitmq"));
    cleanups.push(() => amqpConnection.close());
    const channel = await amqpConnection.createChannel();
    const exchange = `herald.fanout.${suffix}`;
    const queue = `herald.fanout.${suffix}`;
    await channel.assertExchange(exchange, "topic", { durable: false, autoDelete: true });
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await channel.bindQueue(queue, exchange, "fan.#");
    await channel.consume(queue, (msg) => {
      if (msg === null) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(msg.properties.headers ?? {})) headers[k] = String(v);
      copies.rabbitmq = { headers, body: msg.content.toString("utf8") };
      channel.ack(msg);
    });

    // redis-streams: a stream key of this test's own.
    const redis = new Redis(serviceUrl("redis"));
    const streamKey = `herald:fanout:${suffix}`;
    cleanups.push(async () => {
      await redis.del(streamKey);
      redis.disconnect();
    });

    // nats-core: a core NATS subscriber on a subject no stream captures ({tenant} is "default").
    const natsCore = await connectNats({ servers: serviceUrl("nats") });
    cleanups.push(() => natsCore.close());
    const coreSubject = `herald.fanoutcore.${suffix}`;
    natsCore.subscribe(`${coreSubject}.default`, {
      max: 1,
      callback: (_error, msg) => {
        const headers: Record<string, string> = {};
        for (const [name, values] of msg.headers ?? []) headers[name.toLowerCase()] = values.join();
        copies["nats-core"] = { headers, body: msg.string() };
      },
    });
    await natsCore.flush();

    // sqs: a queue on moto; eventbridge: a bus on moto whose rule routes to a second queue.
    const awsMoto = moto as MotoServer;
    const sqs = new SQSClient(awsClientConfig(awsMoto.aws));
    const events = new EventBridgeClient(awsClientConfig(awsMoto.aws));
    cleanups.push(async () => {
      sqs.destroy();
      events.destroy();
    });
    const { QueueUrl: sqsQueue = "" } = await sqs.send(
      new CreateQueueCommand({ QueueName: `fanout-${suffix}` }),
    );
    const bus = await busToQueue(events, sqs, `fanout-${suffix}`, "herald.fanout");

    const dir = await makeTempDir("fanout");
    cleanups.push(() => dir.remove());
    const recordFile = join(dir.path, "recorded.jsonl");
    writeFileSync(recordFile, "");
    writeFileSync(join(dir.path, "functions.mjs"), FUNCTIONS);
    writeFileSync(
      join(dir.path, "herald.yaml"),
      [
        "nats:",
        `  servers: [${serviceUrl("nats")}]`,
        `  stream: ${stream.stream}`,
        `  subjects: ['${stream.prefix}.>']`,
        "functions:",
        "  module: ./functions.mjs",
        "aws:",
        `  region: ${awsMoto.aws.region}`,
        `  endpoint: ${awsMoto.endpoint}`,
        "worker:",
        "  poll_interval_ms: 50",
        "ssrf:",
        "  allow: ['127.0.0.0/8']",
        "",
      ].join("\n"),
    );
    const herald: HeraldProcess = await startHerald({
      cwd: dir.path,
      args: ["--db", join(dir.path, "herald.db"), "--config", join(dir.path, "herald.yaml")],
      env: {
        RECORD_FILE: recordFile,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_PROFILE: undefined,
      },
    });
    cleanups.push(() => herald.kill9());
    const base = herald.url as string;

    const targets: Record<Kind, string> = {
      http: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`,
      nats: `${stream.prefix}.fan`,
      function: "record",
      websocket: `ws://127.0.0.1:${ws.port}/`,
      grpc: `grpc://127.0.0.1:${grpcPort}`,
      rabbitmq: `${serviceUrl("rabbitmq")}/?exchange=${exchange}&routing_key=fan.out`,
      "redis-streams": `${serviceUrl("redis")}/0?stream=${streamKey}&maxlen=100`,
      "nats-core": `${coreSubject}.{tenant}`,
      sqs: sqsQueue,
      eventbridge: `eventbridge://${bus.busName}?source=herald.fanout&region=us-east-1`,
    };
    for (const kind of TRANSPORTS) {
      const created = await api(base, "POST", "/v1/endpoints", {
        id: `ep_${kind.replace("-", "_")}`,
        transport: kind,
        url: targets[kind],
        event_types: ["fan.*"],
        secret: secrets[kind],
        retry: { schedule_s: [0.2, 0.5, 1, 1] },
      });
      expect(created.status, `${kind}: ${created.text}`).toBe(201);
      // A broker password given in the target is never shown back.
      expect(created.text).not.toContain("guest:guest@");
    }

    const sent = await api(base, "POST", "/v1/messages", {
      type: "fan.out.v1",
      payload: { order: 42, note: "grüße" },
    });
    expect(sent.status, sent.text).toBe(202);
    const messageId =
      (sent.json as { message_id?: string; id?: string }).message_id ??
      (sent.json as { id: string }).id;

    await waitUntil(
      async () => {
        const { json } = await api(base, "GET", `/v1/messages/${messageId}`);
        const deliveries = (json as { deliveries: Array<{ status: string }> }).deliveries;
        return (
          deliveries.length === TRANSPORTS.length &&
          deliveries.every((d) => d.status === "delivered")
        );
      },
      20_000,
      () => `every delivery delivered (${messageId}):\n${herald.stderr()}`,
    );

    // The copies the brokers and the function hold.
    const natsCopy = await stream.jsm.streams.getMessage(stream.stream, { seq: 1 });
    const natsHeaders: Record<string, string> = {};
    for (const [name, values] of natsCopy?.header ?? [])
      natsHeaders[name.toLowerCase()] = values.join();
    copies.nats = { headers: natsHeaders, body: natsCopy?.string() ?? "" };
    const [entry] = await redis.xrange(streamKey, "-", "+");
    const fields = new Map<string, string>();
    for (let i = 0; i < (entry?.[1].length ?? 0); i += 2) {
      fields.set(entry?.[1][i] ?? "", entry?.[1][i + 1] ?? "");
    }
    copies["redis-streams"] = {
      headers: JSON.parse(fields.get("headers") ?? "{}") as Record<string, string>,
      body: fields.get("body") ?? "",
    };
    const { Messages: [sqsCopy] = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sqsQueue,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ["All"],
      }),
    );
    copies.sqs = {
      headers: Object.fromEntries(
        Object.entries(sqsCopy?.MessageAttributes ?? {}).map(([n, v]) => [n, v.StringValue ?? ""]),
      ),
      body: sqsCopy?.Body ?? "",
    };
    const [busEvent] = (await drainQueue(sqs, bus.queueUrl, 1)) as unknown as Array<{
      detail: { id: string; data: unknown; webhook: Record<string, string> };
    }>;
    expect(busEvent?.detail.id).toBe(messageId);
    copies.eventbridge = {
      headers: busEvent?.detail.webhook ?? {},
      body: JSON.stringify(busEvent?.detail.data),
    };
    const [fnLine] = readFileSync(recordFile, "utf8").split("\n");
    copies.function = JSON.parse(fnLine ?? "{}") as Copy;
    await waitUntil(
      async () => copies.rabbitmq !== undefined && copies["nats-core"] !== undefined,
      5000,
      () => "the RabbitMQ and core NATS copies",
    );

    for (const kind of TRANSPORTS) {
      const copy = copies[kind];
      expect(copy, kind).toBeDefined();
      const verdict = verifyWebhook({
        scheme: "standard",
        secrets: secrets[kind],
        headers: copy?.headers ?? {},
        body: Buffer.from(copy?.body ?? "", "utf8"),
      });
      expect(verdict, kind).toMatchObject({ ok: true, id: messageId });
      expect(JSON.parse(copy?.body ?? "null"), kind).toEqual({ order: 42, note: "grüße" });
      // Another endpoint's secret does not verify it.
      const other = secrets[kind === "http" ? "nats" : "http"];
      expect(
        verifyWebhook({
          scheme: "standard",
          secrets: other,
          headers: copy?.headers ?? {},
          body: Buffer.from(copy?.body ?? "", "utf8"),
        }).ok,
        kind,
      ).toBe(false);
    }
    expect(verifiedByListener.sort()).toEqual(["grpc", "websocket"]);
  });
});
