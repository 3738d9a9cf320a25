// A test double at the HTTP level for EventBridge partial failures, which moto never produces:
// a node:http proxy in front of moto that forwards every request, records the entries of each
// PutEvents call, and for the entries chosen by `fail` answers ThrottlingException. To stay
// honest those entries are REMOVED from the request before it is forwarded (moto never stores
// them), and failure records are spliced back at their indexes in moto's answer, with
// FailedEntryCount counting them — exactly what EventBridge answers in a partial failure.
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One PutEvents entry as the SDK sends it (JSON protocol). */
export interface WireEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: number;
}

export interface PutEventsProxy {
  /** http://127.0.0.1:<port>: give it to the EventBridge client as its endpoint. */
  endpoint: string;
  /** The entries of every PutEvents request, as the client sent them, in call order. */
  requests: WireEntry[][];
  stop(): Promise<void>;
}

/** `detail.id` of an entry: the Herald event id. */
export const entryId = (entry: WireEntry): string =>
  (JSON.parse(entry.Detail ?? "{}") as { id?: string }).id ?? "";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(
  upstream: URL,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: { ...headers, "content-length": String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * Starts the proxy. `fail(entry, call)` picks the entries of PutEvents call `call` (1-based)
 * that fail with ThrottlingException.
 */
export async function startPutEventsProxy(
  upstream: string,
  fail: (entry: WireEntry, call: number) => boolean,
): Promise<PutEventsProxy> {
  const target = new URL(upstream);
  const requests: WireEntry[][] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        let body = Buffer.concat(chunks);
        let failing: number[] = [];
        if (req.headers["x-amz-target"] === "AWSEvents.PutEvents") {
          const parsed = JSON.parse(body.toString("utf8")) as { Entries: WireEntry[] };
          requests.push(parsed.Entries);
          const call = requests.length;
          failing = parsed.Entries.flatMap((entry, i) => (fail(entry, call) ? [i] : []));
          parsed.Entries = parsed.Entries.filter((_, i) => !failing.includes(i));
          body = Buffer.from(JSON.stringify(parsed));
          if (parsed.Entries.length === 0) {
            // Nothing left to store: answer as EventBridge would, without moto.
            const answer = {
              FailedEntryCount: failing.length,
              Entries: failing.map(() => throttled()),
            };
            const text = JSON.stringify(answer);
            res.writeHead(200, {
              "content-type": "application/x-amz-json-1.1",
              "content-length": Buffer.byteLength(text),
            });
            res.end(text);
            return;
          }
        }
        const answer = await forward(
          target,
          req.method ?? "POST",
          req.url ?? "/",
          req.headers,
          body,
        );
        let out = answer.body;
        if (failing.length > 0 && answer.status === 200) {
          const result = JSON.parse(out.toString("utf8")) as {
            FailedEntryCount?: number;
            Entries: Record<string, string>[];
          };
          for (const index of failing) result.Entries.splice(index, 0, throttled());
          result.FailedEntryCount = (result.FailedEntryCount ?? 0) + failing.length;
          out = Buffer.from(JSON.stringify(result));
        }
        const headers = { ...answer.headers };
        delete headers["content-length"];
        delete headers["transfer-encoding"];
        res.writeHead(answer.status, { ...headers, "content-length": out.length });
        res.end(out);
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function throttled(): Record<string, string> {
  return { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded (test proxy)" };
}
