// verify: Herald's verifyWebhook (standard scheme, 1 KiB body) against the standardwebhooks
// npm package's Webhook.verify and against the floor of the work itself — one node:crypto
// HMAC-SHA256 plus timingSafeEqual over the same bytes.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { signWebhook, verifyWebhook } from "../packages/webhooks/src/index.js";
import { formatTable, measureInterleaved } from "./measure.js";

export interface VerifyBenchOptions {
  iterations?: number;
  runs?: number;
  bodyBytes?: number;
}

function jsonBody(bytes: number): string {
  const filler = "x".repeat(Math.max(0, bytes - 40));
  return JSON.stringify({ type: "order.created.v1", data: filler }).slice(0, bytes);
}

export async function runVerifyBench(options: VerifyBenchOptions = {}) {
  const { iterations = 20_000, runs = 7, bodyBytes = 1024 } = options;
  const key = randomBytes(32);
  const secret = `whsec_${key.toString("base64")}`;
  const text = jsonBody(bodyBytes);
  const body = Buffer.from(text);
  const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = signWebhook({ scheme: "standard", secret, id, timestamp, body });
  const signature = Buffer.from((headers["webhook-signature"] ?? "").slice(3), "base64");
  const now = new Date(timestamp * 1000);

  const standardwebhooks = new Webhook(secret);
  // Sanity: every contender accepts the same request before it is timed.
  if (!verifyWebhook({ scheme: "standard", secrets: [secret], headers, body, now }).ok) {
    throw new Error("Herald rejected the benchmark request");
  }
  standardwebhooks.verify(text, headers);

  const results = measureInterleaved(
    [
      {
        name: "herald verifyWebhook",
        fn: () => verifyWebhook({ scheme: "standard", secrets: [secret], headers, body, now }),
      },
      { name: "standardwebhooks verify", fn: () => standardwebhooks.verify(text, headers) },
      {
        name: "node:crypto HMAC + timingSafeEqual",
        fn: () => {
          const mac = createHmac("sha256", key)
            .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.`)
            .update(body)
            .digest();
          return timingSafeEqual(mac, signature);
        },
      },
    ],
    { iterations, runs, warmupIterations: Math.ceil(iterations / 4) },
  );
  const [herald, sw, raw] = results as [
    (typeof results)[0],
    (typeof results)[0],
    (typeof results)[0],
  ];
  const ratios = {
    vsStandardwebhooks: herald.median / sw.median,
    vsRawCrypto: herald.median / raw.median,
  };
  const targets = { vsStandardwebhooks: 3, vsRawCrypto: 0.75 };
  const table = formatTable(
    results.map((r) => ({
      contender: r.name,
      "median ops/s": Math.round(r.median),
      spread: `${(r.spread * 100).toFixed(1)} %`,
      "herald ÷ this": r === herald ? "—" : (herald.median / r.median).toFixed(2),
    })),
  );
  const result = {
    name: "verify",
    date: new Date().toISOString(),
    node: process.version,
    bodyBytes,
    iterations,
    runs,
    results,
    ratios,
    targets,
    met: {
      vsStandardwebhooks: ratios.vsStandardwebhooks >= targets.vsStandardwebhooks,
      vsRawCrypto: ratios.vsRawCrypto >= targets.vsRawCrypto,
    },
  };
  return { result, table };
}
