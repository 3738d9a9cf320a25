// The RabbitMQ endpoint target: `amqp(s)://[user:pass@]host[:port][/vhost]?exchange=…&routing_key=…`
// parsed into where to connect and where to publish. Errors never echo the URL (it may hold a
// password).
import {
  bareHostname,
  checkQueryParameters,
  decodedUrlPart as decoded,
  invalidTargetUrl as invalid,
  parseTargetUrl,
} from "@heraldjs/core/internal/delivery/transports/targetUrl.js";

/** Where one RabbitMQ endpoint publishes. */
export interface RabbitMqTarget {
  /** The target without its query: one connection per distinct value (credentials included). */
  connectionKey: string;
  protocol: "amqp" | "amqps";
  /** Host as written (brackets removed from IPv6), the TLS server name for amqps. */
  hostname: string;
  port: number;
  /** Decoded; undefined when the URL has none (amqplib then uses guest/guest). */
  username: string | undefined;
  password: string | undefined;
  /** Decoded virtual host; "/" when the URL has no path. */
  vhost: string;
  /** "" is the default exchange (routing key = queue name). */
  exchange: string;
  routingKey: string;
}

/** AMQP short strings (exchange, routing key, vhost) hold at most 255 bytes. */
const SHORT_STRING_BYTES = 255;
const PARAMETERS: ReadonlySet<string> = new Set(["exchange", "routing_key"]);
const FORM =
  "must be amqp(s)://[user:password@]host[:port][/vhost]?exchange=<name>&routing_key=<key>";

function shortString(value: string, what: string): string {
  if (Buffer.byteLength(value, "utf8") > SHORT_STRING_BYTES) {
    throw invalid(`${what} must be at most ${SHORT_STRING_BYTES} bytes`);
  }
  return value;
}

/**
 * Parses a RabbitMQ target. Throws `request.invalid` ("url: must be …", details.field "url")
 * for anything else; the message never contains the target itself.
 */
export function parseRabbitMqTarget(target: string): RabbitMqTarget {
  const url = parseTargetUrl(target, FORM);
  const protocol = url.protocol === "amqp:" ? "amqp" : url.protocol === "amqps:" ? "amqps" : null;
  if (protocol === null || url.hostname === "" || url.hash !== "") throw invalid(FORM);
  const path = url.pathname;
  if (path.slice(1).includes("/")) {
    throw invalid(`${FORM} (a "/" inside the vhost is written %2F)`);
  }
  const vhost =
    path === "" || path === "/" ? "/" : shortString(decoded(path.slice(1), "vhost"), "vhost");
  checkQueryParameters(url, PARAMETERS, FORM);
  const exchange = shortString(url.searchParams.get("exchange") ?? "", "exchange");
  const routingKey = url.searchParams.get("routing_key");
  if (routingKey === null) throw invalid(`${FORM} (routing_key is required)`);
  if (routingKey === "" && exchange === "") {
    throw invalid(`${FORM} (the default exchange needs a routing_key: the queue name)`);
  }
  shortString(routingKey, "routing_key");
  const hostname = bareHostname(url);
  const port = url.port === "" ? (protocol === "amqp" ? 5672 : 5671) : Number(url.port);
  const hasCredentials = url.username !== "" || url.password !== "";
  return {
    connectionKey: `${url.protocol}//${url.username}:${url.password}@${url.host}${path || "/"}`,
    protocol,
    hostname,
    port,
    username: hasCredentials ? decoded(url.username, "user") : undefined,
    password: hasCredentials ? decoded(url.password, "password") : undefined,
    vhost,
    exchange,
    routingKey,
  };
}
