// Memory under stalled uploads, measured on the built `herald serve` (SQLite): 300 connections
// each announce a body just under the 2 MiB limit, send all of it but the last byte, and stall.
// The server's resident memory (VmRSS of the process) is sampled before and while they hang,
// and its growth must stay under 64 MiB; the figures are printed.
//
// Three kinds of sender: an unknown source with a content type Herald does not take (refused
// from the headers alone, before any body byte is read), a real source with a well-formed but
// wrong signature header (admitted: its bodies count against the in-flight body budget, 32 MiB by
// default, beyond which it answers 503 server.busy), and a /v1 JSON body. Every stalled body
// either is refused at once or times out (408 body.timeout) after the body deadline; the server
// answers a valid webhook with 202 afterwards.
//
// What breaking it shows: bodies read before the source is looked up, or no bound on the bytes
// held at once, show as RSS growing by roughly 300 × 2 MiB; a refusal that keeps reading the
// body shows as a connection left open (no answer); a body deadline that does not fire leaves the
// 408 count at zero.
import { readFileSync } from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createStripeSource,
  makeTempDir,
  newStripeSecret,
  send,
  stripeEvent,
  stripeHeaders,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const CONNECTIONS = 300;
const BODY_BYTES = 2 * 1024 * 1024 - 1;
const RSS_GROWTH_LIMIT_MIB = 64;
const BODY_TIMEOUT_MS = 3_000;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kib / 1024;
}

interface Stalled {
  /** Resolves with the status line's code (null when the server closed without answering). */
  answer: Promise<number | null>;
  /** Resolves once everything but the last byte was written (or the socket closed). */
  sent: Promise<void>;
  destroy(): void;
}

function stallUpload(port: number, head: string): Stalled {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  const answer = new Promise<number | null>((resolve) => {
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("close", () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve(status === undefined ? null : Number(status));
    });
    socket.on("error", () => {});
  });
  const sent = new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("connect", async () => {
      socket.write(head);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = BODY_BYTES - 1;
      while (left > 0 && !socket.destroyed) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!socket.write(part)) {
          await new Promise<void>((r) => {
            socket.once("drain", () => r());
            socket.once("close", () => r());
          });
        }
      }
      resolve();
    });
  });
  return { answer, sent, destroy: () => socket.destroy() };
}

const herald: { process?: HeraldProcess; cwd?: Awaited<ReturnType<typeof makeTempDir>> } = {};

beforeAll(async () => {
  herald.cwd = await makeTempDir("stalled");
  await import("node:fs/promises").then((fs) =>
    fs.writeFile(
      `${herald.cwd?.path}/herald.yaml`,
      `server:\n  body_timeout_ms: ${BODY_TIMEOUT_MS}\n`,
    ),
  );
  herald.process = await startHerald({
    cwd: herald.cwd.path,
    args: ["--db", `${herald.cwd.path}/herald.db`, "--no-worker"],
    env: {
      HERALD_API_KEY: undefined,
      HERALD_CONFIG: `${herald.cwd.path}/herald.yaml`,
      HERALD_DB: undefined,
    },
  });
});

afterAll(async () => {
  await herald.process?.kill9();
  await herald.cwd?.remove();
});

describe("300 stalled uploads near the body limit", () => {
  const kinds = [
    {
      name: "unknown source, text/plain",
      head: (host: string) =>
        `POST /webhooks/no-such-source HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${BODY_BYTES}\r\n\r\n`,
    },
    {
      name: "real source, well-formed wrong signature",
      head: (host: string) =>
        `POST /webhooks/stripe HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        `Stripe-Signature: t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}\r\n` +
        `Content-Length: ${BODY_BYTES}\r\n\r\n`,
    },
    {
      name: "/v1/messages JSON",
      head: (host: string) =>
        `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${BODY_BYTES}\r\n\r\n`,
    },
  ];
  const secret = newStripeSecret();

  for (const kind of kinds) {
    it(`${kind.name}: RSS grows < ${RSS_GROWTH_LIMIT_MIB} MiB, every upload answered`, {
      timeout: 60_000,
    }, async () => {
      const server = herald.process;
      if (server === undefined || server.url === null) throw new Error("no server");
      const base = server.url;
      const port = Number(new URL(base).port);
      const pid = server.child.pid ?? 0;
      if (kind.name.startsWith("real")) await createStripeSource(base, "stripe", secret);
      // Settle the heap a little: a first baseline after a few requests.
      for (let i = 0; i < 20; i++) await send(`${base}/health`);
      const before = rssMiB(pid);
      const uploads = Array.from({ length: CONNECTIONS }, () =>
        stallUpload(port, kind.head(`127.0.0.1:${port}`)),
      );
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMiB(pid));
      }, 50);
      await Promise.all(uploads.map((u) => u.sent));
      // Everything but the last byte is out: hold them for a while, sampling.
      await new Promise((r) => setTimeout(r, 1_000));
      const statuses = await Promise.all(uploads.map((u) => u.answer));
      clearInterval(sampler);
      peak = Math.max(peak, rssMiB(pid));
      const growth = peak - before;
      const counts: Record<string, number> = {};
      for (const s of statuses) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
      console.log(
        `  stalled uploads (${kind.name}): RSS ${before.toFixed(1)} → peak ${peak.toFixed(1)} MiB ` +
          `(+${growth.toFixed(1)} MiB); answers ${JSON.stringify(counts)}`,
      );
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
      // Every stalled upload got an answer in the error shape's statuses, none was left hanging.
      expect(statuses.filter((s) => s === null)).toHaveLength(0);
      for (const s of statuses) expect([404, 408, 503]).toContain(s);

      // Still serving: a valid webhook is accepted.
      if (kind.name.startsWith("real")) {
        const body = stripeEvent(`evt_after_${Date.now()}`);
        const r = await send(`${base}/webhooks/stripe`, {
          method: "POST",
          headers: stripeHeaders(secret, body),
          body,
        });
        expect(r.status).toBe(202);
      }
    });
  }
});
