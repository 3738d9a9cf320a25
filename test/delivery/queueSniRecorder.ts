// A TCP listener that reads a TLS ClientHello and records its server name (SNI), then closes:
// shows which name a TLS client asked for and that it connected at all, with no certificate.
import { createServer, type Socket } from "node:net";

export interface SniRecorder {
  readonly port: number;
  /** The server names of the ClientHellos received, in order ("" for a hello without SNI). */
  readonly names: string[];
  close(): Promise<void>;
}

/** The SNI host name of a complete ClientHello record; null while more bytes are needed. */
export function clientHelloServerName(data: Buffer): string | null {
  if (data.length < 5) return null;
  const recordLength = data.readUInt16BE(3);
  if (data.length < 5 + recordLength) return null;
  let at = 5 + 4 + 2 + 32; // record header, handshake header, version, random
  at += 1 + data.readUInt8(at); // session id
  at += 2 + data.readUInt16BE(at); // cipher suites
  at += 1 + data.readUInt8(at); // compression methods
  const end = at + 2 + data.readUInt16BE(at);
  at += 2;
  while (at + 4 <= end) {
    const type = data.readUInt16BE(at);
    const length = data.readUInt16BE(at + 2);
    if (type === 0) {
      // server_name: list length (2), name type (1), name length (2), name
      const nameLength = data.readUInt16BE(at + 4 + 3);
      return data.subarray(at + 4 + 5, at + 4 + 5 + nameLength).toString("ascii");
    }
    at += 4 + length;
  }
  return "";
}

export async function startSniRecorder(): Promise<SniRecorder> {
  const names: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const name = clientHelloServerName(buffered);
      if (name === null) return;
      names.push(name);
      socket.destroy();
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    names,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
