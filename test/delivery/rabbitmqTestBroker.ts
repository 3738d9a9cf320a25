// The RabbitMQ tests' own corner of the shared broker: an exchange and a queue with a random
// suffix (deleted after), what the queue received read back with basic.get, and a holding TCP
// proxy for a broker that does not answer.
import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel } from "amqplib";
import { connect } from "amqplib";
import type { PeerSeen } from "../contracts/transport.js";
import { serviceUrl } from "../helpers/services.js";
import { startTcpProxy, type TcpProxy } from "./queueTcpProxy.js";

export interface RabbitMqTestBroker {
  exchange: string;
  queue: string;
  /** The routing key bound to `queue`. */
  routingKey: string;
  /** `amqp://user:pass@host:port` of the broker (no path, no query). */
  base: string;
  /** A target publishing to the test exchange with `routingKey` (default: the bound one). */
  target(routingKey?: string, base?: string): string;
  /** Every message the queue has held so far, in order (fetched with basic.get, then kept). */
  received(): Promise<PeerSeen[]>;
  /** A proxy to the broker; `holding` keeps every byte until `release()`. */
  proxy(holding?: boolean): Promise<TcpProxy>;
  /** `base` with the proxy's port. */
  via(proxy: TcpProxy): string;
  channel: Channel;
  dispose(): Promise<void>;
}

function headerText(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

export async function createRabbitMqTestBroker(name: string): Promise<RabbitMqTestBroker> {
  const url = new URL(serviceUrl("rabbitmq"));
  const suffix = randomUUID().slice(0, 8);
  const exchange = `herald.test.${name}.${suffix}`;
  const queue = `herald.test.${name}.${suffix}`;
  const routingKey = "succeed";
  const model: ChannelModel = await connect(serviceUrl("rabbitmq"));
  const channel = await model.createChannel();
  await channel.assertExchange(exchange, "direct", { durable: false, autoDelete: false });
  await channel.assertQueue(queue, { durable: false, autoDelete: false });
  await channel.bindQueue(queue, exchange, routingKey);
  const seen: PeerSeen[] = [];
  const proxies: TcpProxy[] = [];
  const base = `amqp://${url.username}:${url.password}@${url.hostname}:${url.port || 5672}`;

  return {
    exchange,
    queue,
    routingKey,
    base,
    channel,
    target: (key = routingKey, at = base) =>
      `${at}/?exchange=${encodeURIComponent(exchange)}&routing_key=${encodeURIComponent(key)}`,
    async received() {
      for (;;) {
        const got = await channel.get(queue, { noAck: true });
        if (got === false) break;
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(got.properties.headers ?? {})) {
          headers[key.toLowerCase()] = headerText(value);
        }
        seen.push({
          id: String(got.properties.messageId),
          headers,
          body: got.content.toString("utf8"),
        });
      }
      return [...seen];
    },
    async proxy(holding = false) {
      const proxy = await startTcpProxy(Number(url.port || 5672), {
        upstreamHost: url.hostname,
        holding,
      });
      proxies.push(proxy);
      return proxy;
    },
    via: (proxy) => `amqp://${url.username}:${url.password}@127.0.0.1:${proxy.port}`,
    async dispose() {
      for (const proxy of proxies) await proxy.close();
      await channel.deleteQueue(queue).catch(() => {});
      await channel.deleteExchange(exchange).catch(() => {});
      await model.close().catch(() => {});
    },
  };
}
