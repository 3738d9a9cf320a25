// The ceiling of deliver-sqlite: the requests Herald's worker sends, sent by a bare undici loop
// with no storage at all. Per request, as Herald does: the payload serialised to JSON, a
// Standard Webhooks signature over "{id}.{timestamp}.{body}" (HMAC-SHA256, the key imported
// once), the same headers, one POST through a keep-alive undici pool (pipelining 1, no
// connection limit: Herald's settings) and the answer read to its end. Settings from the
// environment (set by bench/deliverBare.ts):
//   BARE_TARGET (the receiver's URL), BARE_SECRET (`whsec_…`), BARE_CONCURRENCY (requests in
//   flight: Herald's worker concurrency), BARE_PAYLOAD (the seeded payload, JSON; `n` is set per
//   request), BARE_EVENT_TYPE, BARE_USER_AGENT.
// Reads `run <n>` lines on stdin; for each, sends n requests and prints `done <2xx answers>`.
// Prints `ready` first. Runs for the whole bench, run after run, until SIGTERM.
import { createHmac, createSecretKey } from "node:crypto";
import { createInterface } from "node:readline";
import { Pool } from "undici";

const env = process.env;
const target = new URL(env.BARE_TARGET);
const pool = new Pool(target.origin, { pipelining: 1 });
const key = createSecretKey(Buffer.from(env.BARE_SECRET.slice("whsec_".length), "base64"));
const concurrency = Number(env.BARE_CONCURRENCY ?? 100);
const payload = JSON.parse(env.BARE_PAYLOAD ?? "{}");
const eventType = env.BARE_EVENT_TYPE ?? "bench.event";
const userAgent = env.BARE_USER_AGENT ?? "Herald";
// Ids shaped as Herald's (`msg_` / `dlv_` and 26 characters), distinct across runs.
let sequence = 0;

async function send(n) {
  const seq = String(sequence++).padStart(26, "0");
  const id = `msg_${seq}`;
  const body = Buffer.from(JSON.stringify({ ...payload, n }), "utf8");
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest("base64");
  const response = await pool.request({
    path: target.pathname,
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": userAgent,
      "x-herald-delivery-id": `dlv_${seq}`,
      "x-herald-event-type": eventType,
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${signature}`,
    },
    body,
  });
  await response.body.dump();
  return response.statusCode >= 200 && response.statusCode < 300;
}

/** `n` requests, `concurrency` at a time; the number answered 2xx. */
async function runOnce(n) {
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      if (await send(i)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return ok;
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const match = /^run (\d+)$/.exec(line);
  if (match === null) return;
  const ok = await runOnce(Number(match[1]));
  console.log(`done ${ok}`);
});
console.log("ready");
const stop = async () => {
  lines.close();
  await pool.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
