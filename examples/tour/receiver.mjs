// The README tour's webhook receiver: a node:http server that checks each webhook Herald sends
// (Standard Webhooks signature, with the endpoint's secret) and prints one line per webhook:
//   delivered <webhook-id> <event type>           (answered 200)
//   failed <webhook-id> <event type> (answered 500)   with --fail: a broken receiver
//   refused (<error code>)                        (answered 401: not signed with the secret)
//
//   WEBHOOK_SECRET=whsec_… node examples/tour/receiver.mjs [--port 4000] [--fail]
//
// Environment: WEBHOOK_SECRET (required), RECEIVER_PORT (default 4000), RECEIVER_FAIL=1 (as --fail).
// It imports the package by its name, which Node resolves to this clone's dist/ (npm run build).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { verifyWebhook } from "@heraldjs/webhooks";

const { values } = parseArgs({
  options: { port: { type: "string" }, fail: { type: "boolean", default: false } },
});
const port = Number(values.port ?? process.env.RECEIVER_PORT ?? 4000);
const failing = values.fail || process.env.RECEIVER_FAIL === "1";
const secret = process.env.WEBHOOK_SECRET ?? "";
if (secret === "") {
  console.error("Set WEBHOOK_SECRET to the endpoint's signing secret (whsec_…)");
  process.exit(2);
}

const server = createServer((request, response) => {
  if (request.method !== "POST") {
    // Anything else is a readiness probe: `curl http://127.0.0.1:4000/`.
    response.end(`receiver ready${failing ? " (failing)" : ""}\n`);
    return;
  }
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks); // the raw bytes: the signature covers exactly these
    const result = verifyWebhook({
      scheme: "standard",
      secrets: [secret],
      headers: request.headers,
      body,
    });
    const id = request.headers["webhook-id"];
    const type = request.headers["x-herald-event-type"];
    if (!result.ok) {
      console.log(`refused (${result.code})`);
      response.writeHead(401).end();
    } else if (failing) {
      console.log(`failed ${id} ${type} (answered 500)`);
      response.writeHead(500).end();
    } else {
      console.log(`delivered ${id} ${type}`);
      response.writeHead(200).end();
    }
  });
});

server.listen(port, "127.0.0.1");
// `kill` stops it cleanly (exit 0), so `wait` in the shell succeeds.
process.on("SIGTERM", () => process.exit(0));
