// The Redis Streams tests' own keys on the shared Redis: a stream with a random suffix (deleted
// after), its entries read back with XRANGE, and a holding TCP proxy for a Redis that does not
// answer.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { PeerSeen } from "../contracts/transport.js";
import { serviceUrl } from "../helpers/services.js";
import { startTcpProxy, type TcpProxy } from "./queueTcpProxy.js";

export interface StreamEntry {
  entryId: string;
  fields: Record<string, string>;
}

export interface RedisTestStream {
  /** The stream key. */
  stream: string;
  /** A key of this test's own holding a string: XADD to it fails with WRONGTYPE. */
  wrongType: string;
  /** `redis://host:port` (no path, no query). */
  base: string;
  target(stream?: string, base?: string, extra?: string): string;
  entries(stream?: string): Promise<StreamEntry[]>;
  /** Every entry as the contract's peer sees it: id, parsed headers, body. */
  received(): Promise<PeerSeen[]>;
  proxy(holding?: boolean): Promise<TcpProxy>;
  via(proxy: TcpProxy): string;
  redis: Redis;
  dispose(): Promise<void>;
}

export async function createRedisTestStream(name: string): Promise<RedisTestStream> {
  const url = new URL(serviceUrl("redis"));
  const suffix = randomUUID().slice(0, 8);
  const prefix = `herald:test:${name}:${suffix}`;
  const stream = `${prefix}:stream`;
  const wrongType = `${prefix}:string`;
  const redis = new Redis(serviceUrl("redis"));
  await redis.set(wrongType, "not a stream");
  const proxies: TcpProxy[] = [];
  const base = `redis://${url.host}`;
  const port = Number(url.port || 6379);

  async function entries(key = stream): Promise<StreamEntry[]> {
    const raw = await redis.xrange(key, "-", "+");
    return raw.map(([entryId, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2)
        fields[flat[i] as string] = flat[i + 1] as string;
      return { entryId, fields };
    });
  }

  return {
    stream,
    wrongType,
    base,
    redis,
    target: (key = stream, at = base, extra = "") =>
      `${at}/?stream=${encodeURIComponent(key)}${extra}`,
    entries,
    async received() {
      return (await entries()).map(({ fields }) => ({
        id: fields.id ?? "",
        headers: JSON.parse(fields.headers ?? "{}") as Record<string, string>,
        body: fields.body ?? "",
      }));
    },
    async proxy(holding = false) {
      const proxy = await startTcpProxy(port, { upstreamHost: url.hostname, holding });
      proxies.push(proxy);
      return proxy;
    },
    via: (proxy) => `redis://127.0.0.1:${proxy.port}`,
    async dispose() {
      for (const proxy of proxies) await proxy.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
