// Talking to a running `herald serve` from end-to-end tests over real sockets: the management
// API, signed Stripe-style webhooks, a local receiver that records what the delivery worker
// sends, raw requests for inputs fetch refuses to send, and temp directories.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signWebhook } from "@heraldjs/webhooks";
import { Agent, request } from "undici";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

/** A keep-alive agent for load (close it in afterAll). */
export function keepAliveAgent(connections = 64): Agent {
  return new Agent({
    connections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

const defaultAgent = keepAliveAgent(16);

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
  agent?: Agent;
  /** Gives up (rejects) after this long. Default 30 s. */
  timeoutMs?: number;
}

/** One HTTP request; rejects only when no response arrived (refused, reset, timeout). */
export async function send(url: string, options: SendOptions = {}): Promise<HttpResult> {
  const response = await request(url, {
    method: (options.method ?? "GET") as "GET",
    headers: options.headers ?? {},
    body: options.body ?? null,
    dispatcher: options.agent ?? defaultAgent,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** A JSON call to the management API. */
export function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return send(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The error code of an error answer, or undefined. */
export function errorCode(result: HttpResult): string | undefined {
  const body = result.json as { error?: { code?: unknown } } | undefined;
  return typeof body?.error?.code === "string" ? body.error.code : undefined;
}

export function newStripeSecret(): string {
  return `whsec_${randomBytes(24).toString("base64url")}`;
}

/** Registers a Stripe-scheme source whose type comes from the body's `type`. */
export async function createStripeSource(
  base: string,
  name: string,
  secret: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const result = await api(base, "POST", "/v1/sources", {
    name,
    scheme: "stripe",
    secrets: [secret],
    type_from: { body: "type" },
    ...extra,
  });
  if (result.status !== 201 && result.status !== 200) {
    throw new Error(`creating source ${name}: ${result.status} ${result.text}`);
  }
}

/** Registers an HTTP endpoint for `eventTypes`; returns its id. */
export async function createEndpoint(
  base: string,
  url: string,
  eventTypes: readonly string[],
): Promise<string> {
  const result = await api(base, "POST", "/v1/endpoints", {
    url,
    event_types: eventTypes,
    retry: { schedule_s: [1, 1, 1, 2, 2, 5] },
  });
  if (result.status !== 201) throw new Error(`creating endpoint: ${result.status} ${result.text}`);
  return (result.json as { id: string }).id;
}

/** A Stripe-style event body with id `id`. */
export function stripeEvent(id: string, type = "charge.succeeded"): string {
  return JSON.stringify({ id, object: "event", type, data: { object: { id: `ch_${id}` } } });
}

/** Headers of a signed Stripe-style webhook (JSON content type). */
export function stripeHeaders(
  secret: string,
  body: string | Buffer,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    "content-type": "application/json",
    ...signWebhook({ scheme: "stripe", secret, timestamp, body }),
  };
}

export interface Receiver {
  url: string;
  /** webhook-id of every request, in arrival order (duplicates included). */
  readonly ids: string[];
  /** Distinct webhook-ids seen. */
  readonly seen: Set<string>;
  /** Parsed bodies by webhook-id (the last one received). */
  readonly bodies: Map<string, unknown>;
  close(): Promise<void>;
}

/** A local receiver on 127.0.0.1 that answers 200 to everything and records webhook-ids. */
export async function startReceiver(): Promise<Receiver> {
  const ids: string[] = [];
  const seen = new Set<string>();
  const bodies = new Map<string, unknown>();
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const id = req.headers["webhook-id"];
      if (typeof id === "string") {
        ids.push(id);
        seen.add(id);
        try {
          bodies.set(id, JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch {
          bodies.set(id, undefined);
        }
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    ids,
    seen,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it returns true; throws `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface DeliveryWire {
  id: string;
  message_id: string;
  endpoint_id: string;
  status: string;
}

/** Every delivery, following next_cursor with pages of 1000. */
export async function listAllDeliveries(base: string, query = ""): Promise<DeliveryWire[]> {
  const all: DeliveryWire[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const params = new URLSearchParams(query);
    params.set("limit", "1000");
    if (cursor !== null) params.set("cursor", cursor);
    const result = await api(base, "GET", `/v1/deliveries?${params}`);
    if (result.status !== 200)
      throw new Error(`listing deliveries: ${result.status} ${result.text}`);
    const body = result.json as { data: DeliveryWire[]; next_cursor: string | null };
    all.push(...body.data);
    cursor = body.next_cursor;
    if (cursor === null) return all;
  }
  throw new Error("listing deliveries: more than 1000 pages");
}

/** Runs `task` on every item with at most `limit` at once. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export interface RawResponse {
  /** The status of the first response line, or null when the server sent nothing. */
  status: number | null;
  text: string;
}

/**
 * Writes `head` (+ `body`) on a fresh TCP connection and reads until the server closes it (or
 * `timeoutMs`). Write errors (the server closing early on an oversized request) are ignored:
 * what counts is the answer.
 */
export function rawRequest(
  base: string,
  head: string,
  body?: Buffer,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match?.[1] === undefined ? null : Number(match[1]), text });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // One complete response with a Content-Length is enough (keep-alive would not close).
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && length?.[1] !== undefined) {
        if (Buffer.byteLength(text, "latin1") - split - 4 >= Number(length[1])) finish();
      }
    });
    socket.on("error", () => {});
    socket.on("close", finish);
    // The body goes in 64 KiB pieces, and stops as soon as the server answered: a server that
    // refuses an oversized body answers early and closes, and bytes still arriving then would
    // make its kernel reset the connection (losing the answer before it is read).
    const pieces = body === undefined ? 0 : Math.ceil(body.length / 65_536);
    let piece = 0;
    const writeNext = () => {
      if (body === undefined || piece >= pieces || chunks.length > 0 || done) return;
      const chunk = body.subarray(piece * 65_536, (piece + 1) * 65_536);
      piece += 1;
      socket.write(chunk, () => setImmediate(writeNext));
    };
    socket.write(head, "latin1", () => setImmediate(writeNext));
  });
}

/** A fresh directory under the OS temp dir, and its removal. */
export async function makeTempDir(
  prefix: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `herald-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The value of one unlabelled sample (e.g. `herald_ingest_batch_size_count`) in /metrics. */
export async function metricValue(base: string, sample: string): Promise<number> {
  const result = await send(`${base}/metrics`);
  for (const line of result.text.split("\n")) {
    const [name, value] = line.split(" ");
    if (name === sample && value !== undefined) return Number(value);
  }
  return Number.NaN;
}
