// The service's logs at the most verbose level: JSON lines with request and message ids, and
// never a secret, a signature or an API key.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningService, startService } from "../../packages/server/src/server/service.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

const SOURCE_SECRET = "whsec_c291cmNlLXNlY3JldC1uZXZlci1sb2dnZWQtMTIzNDU=";
const API_KEY = "key_never_logged_0123456789";
const lines: string[] = [];
let service: RunningService;
let file: ReturnType<typeof tempSqlitePath>;
let receiver: ReturnType<typeof createServer>;

beforeAll(async () => {
  file = tempSqlitePath();
  receiver = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  service = await startService({
    database: { dialect: "sqlite", path: file.path },
    http: true,
    worker: true,
    host: "127.0.0.1",
    port: 0,
    apiKey: API_KEY,
    ssrfAllow: ["127.0.0.0/8"],
    pollIntervalMs: 20,
    logger: pino({ level: "trace" }, { write: (line: string) => lines.push(line) }),
    version: "test",
  });
});

afterAll(async () => {
  await service?.stop();
  receiver?.close();
  file?.cleanup();
});

it("logs request and message ids, never secrets or signatures", async () => {
  const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
  await fetch(`${service.url}/v1/sources`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "s", scheme: "standard", secrets: [SOURCE_SECRET] }),
  });
  const port = (receiver.address() as AddressInfo).port;
  const endpoint = (await (
    await fetch(`${service.url}/v1/endpoints`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ url: `http://127.0.0.1:${port}/h`, event_types: ["s.*"] }),
    })
  ).json()) as { secret: string };
  const body = '{"hello":"world"}';
  const headers = signWebhook({ scheme: "standard", secret: SOURCE_SECRET, id: "msg_in_1", body });
  const response = await fetch(`${service.url}/webhooks/s`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", "x-request-id": "req-test-1" },
    body,
  });
  expect(response.status).toBe(202);
  expect(response.headers.get("x-request-id")).toBe("req-test-1");
  const { message_id } = (await response.json()) as { message_id: string };
  // A bad signature is logged as a rejection, without the header's value.
  await fetch(`${service.url}/webhooks/s`, {
    method: "POST",
    headers: { ...headers, "webhook-signature": "v1,AAAA", "content-type": "application/json" },
    body: '{"other":1}',
  });
  const deadline = Date.now() + 5000;
  while (!lines.some((l) => l.includes(message_id) && l.includes("deliveryId"))) {
    if (Date.now() > deadline) throw new Error("no delivery log line");
    await new Promise((r) => setTimeout(r, 20));
  }
  const all = lines.join("");
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  const received = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "webhook received");
  expect(received).toMatchObject({
    requestId: "req-test-1",
    messageId: message_id,
    outcome: "accepted",
  });
  const rejected = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "webhook rejected");
  expect(rejected).toMatchObject({ source: "s", code: expect.stringMatching(/^signature\./) });
  for (const secret of [
    SOURCE_SECRET,
    API_KEY,
    endpoint.secret,
    headers["webhook-signature"] as string,
  ]) {
    expect(all).not.toContain(secret);
  }
  expect(all).not.toContain("v1,AAAA");
});
