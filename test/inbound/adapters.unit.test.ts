// Every adapter over a real HTTP socket: exact bytes verify, tampering is refused, oversize
// bodies are cut off before verification, duplicates are answered as such.
import { connect } from "node:net";
import {
  createReceiver,
  type Receiver,
  signWebhook,
  type WebhookContext,
} from "@heraldjs/webhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { secret, signedHeaders, unusualJson } from "./fixtures.js";
import { type Adapter, type Running, start, WEBHOOK_PATH } from "./servers.js";

const MAX = 1024;
const adapters: Adapter[] = ["node", "express", "fastify", "hono"];

function chunked(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(new Uint8Array(16 * 1024).fill(0x61));
      sent += 16 * 1024;
    },
  });
}

describe.each(adapters)("%s adapter over a real socket", (adapter) => {
  let server: Running;
  let seen: WebhookContext[];
  let url: string;

  beforeAll(async () => {
    const receiver: Receiver = createReceiver({
      scheme: "standard",
      secrets: [secret],
      maxBodyBytes: MAX,
      handler: (webhook) => {
        seen.push(webhook);
      },
    });
    server = await start[adapter](receiver);
    url = server.origin + WEBHOOK_PATH;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    seen = [];
  });

  async function post(
    body: string | Uint8Array,
    headers: Record<string, string>,
    init: RequestInit = {},
  ) {
    const response = await fetch(url, { method: "POST", body, headers, ...init });
    return { status: response.status, json: await response.json() };
  }

  it("verifies a JSON body with unusual whitespace and non-ASCII bytes, byte for byte", async () => {
    const bytes = Buffer.from(unusualJson, "utf8");
    const id = `msg_${adapter}_unusual`;
    const response = await post(bytes, {
      ...signedHeaders(bytes, { id }),
      "content-type": "application/json",
    });
    expect(response).toEqual({ status: 200, json: { status: "processed", id } });
    expect(seen).toHaveLength(1);
    expect(Buffer.from(seen[0]!.rawBody).equals(bytes)).toBe(true);
    expect(seen[0]!.json()).toEqual({ a: "é€😀", b: [1, 2] });
  });

  it.each([
    ["form", "application/x-www-form-urlencoded", "a=1&b=%C3%A9"],
    ["text", "text/plain; charset=latin1", "héllo"],
    ["no content type", undefined, "opaque"],
  ])("verifies a %s body as raw bytes", async (_name, contentType, body) => {
    const id = `msg_${adapter}_${_name}`;
    const headers = signedHeaders(body, { id });
    if (contentType !== undefined) headers["content-type"] = contentType;
    const init = contentType === undefined ? { body: Buffer.from(body) } : {};
    const response = await post(body, headers, init);
    expect(response).toEqual({ status: 200, json: { status: "processed", id } });
    expect(seen[0]?.text()).toBe(body);
  });

  it("answers a repeated delivery 200 duplicate without running the handler again", async () => {
    const id = `msg_${adapter}_dup`;
    const headers = { ...signedHeaders("{}", { id }), "content-type": "application/json" };
    expect((await post("{}", headers)).json).toEqual({ status: "processed", id });
    expect(await post("{}", headers)).toEqual({ status: 200, json: { status: "duplicate", id } });
    expect(seen).toHaveLength(1);
  });

  it("refuses a tampered body with 401", async () => {
    const headers = { ...signedHeaders('{"amount":1}'), "content-type": "application/json" };
    const response = await post('{"amount":1000}', headers);
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ error: { code: "signature.invalid" } });
    expect(seen).toHaveLength(0);
  });

  it("refuses a body over maxBodyBytes with 413 (Content-Length)", async () => {
    const body = "x".repeat(MAX + 1);
    const response = await post(body, signedHeaders(body));
    expect(response).toEqual({
      status: 413,
      json: { error: { code: "body.too_large", message: expect.any(String) } },
    });
    expect(seen).toHaveLength(0);
  });

  it("refuses a declared Content-Length over the limit before any byte of the body", async () => {
    // Only the head is sent: an adapter that waited for the body would never answer.
    const head = [
      `POST ${WEBHOOK_PATH} HTTP/1.1`,
      `Host: ${new URL(url).host}`,
      "Content-Type: application/json",
      `Content-Length: ${10 * MAX}`,
      ...Object.entries(signedHeaders("{}")).map(([name, value]) => `${name}: ${value}`),
      "",
      "",
    ].join("\r\n");
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), "127.0.0.1", () => socket.write(head));
      let received = "";
      socket.setTimeout(5_000, () => {
        socket.destroy();
        reject(new Error(`no answer; got ${JSON.stringify(received)}`));
      });
      socket.on("data", (chunk) => {
        received += chunk.toString();
        if (received.includes("body.too_large")) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(seen).toHaveLength(0);
  });

  it("refuses a streamed body with 413 as soon as it grows past maxBodyBytes", async () => {
    // Far more than the test could send in its time: the answer must come before the end.
    const response = await fetch(url, {
      method: "POST",
      body: chunked(16 * 1024 ** 3),
      signal: AbortSignal.timeout(5_000),
      headers: signedHeaders("irrelevant"),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "body.too_large" } });
    expect(seen).toHaveLength(0);
  });
});

describe.each(adapters)("%s adapter rebuilds the URL twilio signs", (adapter) => {
  it("verifies a twilio request signed over the URL it was sent to", async () => {
    let calls = 0;
    const receiver = createReceiver({
      scheme: "twilio",
      secrets: ["twilio-auth-token"],
      handler: () => {
        calls++;
      },
    });
    const server = await start[adapter](receiver);
    try {
      const url = `${server.origin}${WEBHOOK_PATH}?source=sms`;
      const body = "Body=Hello%20%C3%A9&From=%2B15551234567";
      const headers = {
        ...signWebhook({ scheme: "twilio", secret: "twilio-auth-token", body, url }),
        "content-type": "application/x-www-form-urlencoded",
      };
      const response = await fetch(url, { method: "POST", body, headers });
      expect(response.status).toBe(200);
      const forged = await fetch(`${server.origin}${WEBHOOK_PATH}?source=other`, {
        method: "POST",
        body,
        headers,
      });
      expect(forged.status).toBe(401);
      expect(calls).toBe(1);
    } finally {
      await server.close();
    }
  });
});
