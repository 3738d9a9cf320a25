// buildServiceTransports against the real NATS JetStream: the stream is created at start with the
// configured subjects (or found, keeping its own), an endpoint of the file outside them fails the
// start, an unreachable server is bus.unavailable, an unreadable creds file config.invalid, and a
// delivery published through the built transport lands in the stream with Herald's headers.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../../packages/core/src/model/deliveryRecords.js";
import {
  buildServiceTransports,
  type ServiceTransports,
} from "../../packages/server/src/config/serviceTransports.js";
import { natsDefaults } from "../../packages/server/src/config/transportConfig.js";
import type { HeraldConfig } from "../../packages/server/src/config/types.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import { testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

const available = await serviceAvailable("nats");

type Built = Pick<HeraldConfig, "file" | "nats" | "functions" | "endpoints">;

function endpoint(id: string, target: string): HeraldConfig["endpoints"][number] {
  return {
    input: { id, transport: "nats", target, eventTypes: ["*"], secrets: [{ secret: "x" }] },
    secretGiven: false,
  };
}

// Skipped only when NATS is unreachable (a loud notice from serviceAvailable); under CI=true or
// HERALD_REQUIRE_SERVICES=1 serviceAvailable throws instead, failing the run.
describe.skipIf(!available)("service transports on NATS JetStream", () => {
  const streams: TestStream[] = [];
  let built: ServiceTransports | undefined;

  afterEach(async () => {
    await built?.close();
    built = undefined;
  });
  afterAll(async () => {
    for (const stream of streams) await stream.delete();
    removeConfigDirs();
  });

  async function stream(label: string): Promise<TestStream> {
    const created = await createTestStream(label);
    streams.push(created);
    return created;
  }

  function config(t: TestStream, endpoints: Built["endpoints"] = []): Built {
    return {
      file: "/etc/herald/herald.yaml",
      nats: { ...natsDefaults([serviceUrl("nats")]), stream: t.stream, subjects: t.subjects },
      functions: null,
      endpoints,
    };
  }

  it("creates the stream at start, and publishes a delivery into it with Herald's headers", async () => {
    const t = await stream("svcnew");
    built = await buildServiceTransports(config(t, [endpoint("ok", `${t.prefix}.orders`)]), {
      ssrfAllow: [],
    });
    expect((await t.jsm.streams.info(t.stream)).config.subjects).toEqual(t.subjects);
    expect(built.availability.nats).toEqual({ stream: t.stream, subjects: t.subjects });
    expect(() => built?.checkEndpoint("nats", `${t.prefix}.a.b`)).not.toThrow();
    expect(() => built?.checkEndpoint("nats", "elsewhere.a")).toThrow(
      expect.objectContaining({ code: "transport.unavailable" }),
    );

    const message = testMessage({ order: 7 });
    const delivery = { id: "dlv_svc_1", attempts: 0, maxAttempts: 3 } as DeliveryRecord;
    const nats = built.transports.nats;
    const result = await nats?.send({
      delivery,
      message,
      endpoint: testEndpoint(
        `${t.prefix}.orders`,
        [
          {
            secret: generateSecret("standard"),
            expiresAt: null,
            createdAt: new Date(0).toISOString(),
          },
        ],
        { transport: "nats", id: "ep_n" },
      ),
      attemptNumber: 1,
    });
    expect(result?.classification).toEqual({ outcome: "success" });
    const stored = await t.jsm.streams.getMessage(t.stream, { seq: 1 });
    expect(stored?.subject).toBe(`${t.prefix}.orders`);
    expect(stored?.json()).toEqual({ order: 7 });
    expect(stored?.header.get("x-herald-delivery-id")).toBe("dlv_svc_1");
    expect(stored?.header.get("x-herald-message-id")).toBe(message.id);
    expect(stored?.header.get("webhook-id")).toBe(message.id);
    // Every transport is there; the client-library ones load on their first send.
    expect(Object.keys(built.transports).sort()).toEqual([
      "eventbridge",
      "function",
      "grpc",
      "http",
      "nats",
      "nats-core",
      "rabbitmq",
      "redis-streams",
      "sqs",
      "websocket",
    ]);
  });

  it("keeps an existing stream's own subjects and checks endpoints against them", async () => {
    const t = await stream("svcold");
    await t.jsm.streams.add({ name: t.stream, subjects: [`${t.prefix}.only.*`] });
    built = await buildServiceTransports(config(t), { ssrfAllow: [] });
    expect(built.availability.nats?.subjects).toEqual([`${t.prefix}.only.*`]);
    expect(() => built?.checkEndpoint("nats", `${t.prefix}.only.x`)).not.toThrow();
    expect(() => built?.checkEndpoint("nats", `${t.prefix}.other`)).toThrow(
      expect.objectContaining({ code: "transport.unavailable" }),
    );
  });

  it("fails the start for an endpoint of the file its stream does not capture", async () => {
    const t = await stream("svcbad");
    const error = await rejection(
      buildServiceTransports(config(t, [endpoint("bad", "outside.subject")]), { ssrfAllow: [] }),
    );
    expect(error).toMatchObject({
      code: "config.invalid",
      message: `/etc/herald/herald.yaml: endpoints[0].url: the NATS subject "outside.subject" is not captured by the stream ${t.stream} (its subjects: "${t.prefix}.>")`,
    });
  });

  it("reports an unreachable server as bus.unavailable, an unreadable creds file as config.invalid", async () => {
    const t = await stream("svcdown");
    const down = { ...config(t), nats: { ...natsDefaults(["nats://127.0.0.1:1"]) } };
    expect(await rejection(buildServiceTransports(down, { ssrfAllow: [] }))).toMatchObject({
      code: "bus.unavailable",
    });
    const dir = configDir();
    const missing = join(dir, "missing.creds");
    const creds = { ...config(t), nats: { ...config(t).nats!, credsFile: missing } };
    expect(await rejection(buildServiceTransports(creds, { ssrfAllow: [] }))).toMatchObject({
      code: "config.invalid",
      message: `NATS credentials file ${missing} cannot be read (ENOENT)`,
    });
    // A readable but invalid creds file never shows its content.
    const bad = join(dir, "bad.creds");
    writeFileSync(bad, "not-a-creds-file SECRET-SEED");
    const invalid = { ...config(t), nats: { ...config(t).nats!, credsFile: bad } };
    const error = await rejection(buildServiceTransports(invalid, { ssrfAllow: [] }));
    expect(error.message).not.toContain("SECRET-SEED");
  });
});
