// The message-shaped transports in herald.yaml: a websocket, grpc, rabbitmq or redis-streams
// endpoint loads and applies with its transport and target; a target of the wrong form for its
// transport is config.invalid at file:line:column naming `url`, without the URL's password.
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
});
