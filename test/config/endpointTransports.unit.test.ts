// The message-shaped transports in herald.yaml: a websocket, grpc, rabbitmq, redis-streams, sqs
// or eventbridge endpoint loads and applies with its transport and target; a target of the wrong
// form for its transport is config.invalid at file:line:column naming `url`, without the URL's
// password; an sqs queue URL must be on AWS, or on the `aws.endpoint` override's origin.
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { applyConfig, loadConfig } from "../../packages/server/src/config/index.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const endpoint = (transport: string, url: string) =>
  `endpoints:\n  - id: listener\n    transport: ${transport}\n    url: '${url}'\n    event_types: [order.*]\n`;

describe("herald.yaml endpoints of the message-shaped transports", () => {
  it.each([
    ["websocket", "wss://listener.example.com/herald"],
    ["grpc", "grpcs://listener.example.com:443"],
    ["rabbitmq", "amqp://herald:pw@mq.example.com/?exchange=orders&routing_key=order.created"],
    ["redis-streams", "redis://cache.example.com:6379/0?stream=orders&maxlen=1000"],
    ["sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"],
    ["eventbridge", "eventbridge://orders-bus?source=acme.herald&region=eu-west-1"],
  ])("loads and applies a %s endpoint", async (transport, url) => {
    const store = createMemoryDeliveryStore();
    const config = await loadConfig({ cwd: configDir(endpoint(transport, url)), env: {} });
    await applyConfig(store, config);
    expect(await store.getEndpoint("listener")).toMatchObject({ transport, target: url });
  });

  it.each([
    ["websocket", "https://listener.example.com/herald", "must be an absolute ws:// or wss:// URL"],
    ["grpc", "grpc://listener.example.com", "url: "],
    ["rabbitmq", "amqp://herald:s3cretpw@mq.example.com/?exchange=orders", "url: "],
    ["sqs", "https://herald:s3cretpw@sqs.eu-west-1.amazonaws.com/123456789012/q", "url: "],
    ["sqs", "http://127.0.0.1:5000/123456789012/orders", "not an AWS SQS host"],
    ["eventbridge", "eventbridge://orders-bus?source=aws.s3", "AWS reserves"],
  ])("refuses a %s endpoint at %s with file:line", async (transport, url, text) => {
    const error = await rejection(
      loadConfig({ cwd: configDir(endpoint(transport, url)), env: {} }),
    );
    expect(error.code).toBe("config.invalid");
    const { message } = error;
    expect(message).toMatch(/^herald\.yaml:\d+:\d+: endpoints\[0\]\.url: /);
    expect(message).toContain(text);
    expect(message).not.toContain("s3cretpw");
  });

  it("takes an sqs queue on the aws.endpoint override's origin, and refuses one elsewhere", async () => {
    const aws = "aws:\n  region: us-east-1\n  endpoint: http://127.0.0.1:5000\n";
    const onOverride = "http://127.0.0.1:5000/123456789012/orders";
    const store = createMemoryDeliveryStore();
    const config = await loadConfig({
      cwd: configDir(aws + endpoint("sqs", onOverride)),
      env: {},
    });
    await applyConfig(store, config);
    expect(await store.getEndpoint("listener")).toMatchObject({
      transport: "sqs",
      target: onOverride,
    });
    for (const url of [
      "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
      "http://127.0.0.1:5001/123456789012/orders",
    ]) {
      const error = await rejection(
        loadConfig({ cwd: configDir(aws + endpoint("sqs", url)), env: {} }),
      );
      expect(error.code).toBe("config.invalid");
      expect(error.message).toMatch(/^herald\.yaml:7:5: endpoints\[0\]\.url: /);
      expect(error.message).toContain("the configured AWS endpoint override's origin");
    }
    // HERALD_AWS_ENDPOINT moves the origin the same way.
    const moved = await rejection(
      loadConfig({
        cwd: configDir(aws + endpoint("sqs", onOverride)),
        env: { HERALD_AWS_ENDPOINT: "http://127.0.0.1:6000" },
      }),
    );
    expect(moved.code).toBe("config.invalid");
  });
});
