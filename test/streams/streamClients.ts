// Test clients of the live streams: an SSE reader over node:http that parses events as they
// arrive, and a WebSocket reader over ws; both collect what they got and can wait for more.
import { request } from "node:http";
import { WebSocket } from "ws";

export interface ReceivedEvent {
  /** The stream cursor (SSE `id:`, the frame's `id`). */
  cursor: string;
  /** SSE `event:`; the frame's `type`. */
  name: string | null;
  data: { id: string; type: string; tenant: string; created_at: string; payload: unknown };
}

export interface StreamReader {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: ReceivedEvent[];
  comments: string[];
  /** The body of a refusal (JSON), or the raw text read so far. */
  text: string;
  /** Resolves when the server ended the stream (or the socket closed). */
  ended: Promise<void>;
  /** Resolves once `n` events arrived in all (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  waitForComment(match: string, ms?: number): Promise<void>;
  close(): void;
}

function waiter(check: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

/** GET an SSE stream; resolves once the status line is in. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<StreamReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      const reader: StreamReader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        text: "",
        ended: new Promise((done) => {
          res.on("close", () => done());
          res.on("error", () => done());
        }),
        waitFor: (n, ms = 5000) => waiter(() => reader.events.length >= n, ms, `${n} events`),
        waitForComment: (match, ms = 5000) =>
          waiter(() => reader.comments.some((c) => c.includes(match)), ms, `comment ${match}`),
        close: () => req.destroy(),
      };
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        reader.text += chunk;
        pending += chunk;
        let end = pending.indexOf("\n\n");
        while (end !== -1) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          end = pending.indexOf("\n\n");
          let cursor: string | null = null;
          let name: string | null = null;
          let data: string | null = null;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) reader.comments.push(line.slice(1).trim());
            else if (line.startsWith("id: ")) cursor = line.slice(4);
            else if (line.startsWith("event: ")) name = line.slice(7);
            else if (line.startsWith("data: ")) data = line.slice(6);
          }
          if (cursor !== null && data !== null) {
            reader.events.push({ cursor, name, data: JSON.parse(data) });
          }
        }
      });
      res.on("error", () => {});
      resolve(reader);
    });
    req.on("error", reject);
    req.end();
  });
}

export interface WsReader {
  events: ReceivedEvent[];
  closeCode: Promise<number>;
  waitFor(n: number, ms?: number): Promise<void>;
  close(): void;
  socket: WebSocket;
}

/** Opens a WebSocket stream; rejects with the HTTP status when the upgrade is refused. */
export function openWs(url: string): Promise<WsReader> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const events: ReceivedEvent[] = [];
    const closeCode = new Promise<number>((done) => socket.on("close", (code) => done(code)));
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body }),
        ),
      );
    });
    socket.on("error", (error) => reject(error));
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      const { id, message_id, ...rest } = frame;
      events.push({
        cursor: id as string,
        name: rest.type as string,
        data: { id: message_id, ...rest } as ReceivedEvent["data"],
      });
    });
    socket.on("open", () =>
      resolve({
        events,
        closeCode,
        socket,
        waitFor: (n, ms = 5000) => waiter(() => events.length >= n, ms, `${n} frames`),
        close: () => socket.terminate(),
      }),
    );
  });
}
