// The Redis Streams endpoint target: `redis(s)://[user:pass@]host[:port][/db]?stream=<key>&maxlen=<n>`
// parsed into where to connect and what to XADD. Errors never echo the URL (it may hold a password).
import {
  bareHostname,
  checkQueryParameters,
  decodedUrlPart as decoded,
  invalidTargetUrl as invalid,
  parseTargetUrl,
} from "@heraldjs/core/internal/delivery/transports/targetUrl.js";

/** Where one Redis Streams endpoint appends. */
export interface RedisStreamsTarget {
  /** The target without its query: one client per distinct value (credentials included). */
  connectionKey: string;
  tls: boolean;
  /** Host as written (brackets removed from IPv6), the TLS server name for rediss. */
  hostname: string;
  port: number;
  /** Decoded; undefined when absent (Redis's `default` user, no AUTH). */
  username: string | undefined;
  password: string | undefined;
  db: number;
  /** The stream's key. */
  stream: string;
  /** `XADD … MAXLEN ~ n`; null keeps every entry. */
  maxlen: number | null;
}

const PARAMETERS: ReadonlySet<string> = new Set(["stream", "maxlen"]);
const FORM = "must be redis(s)://[user:password@]host[:port][/db]?stream=<key>[&maxlen=<n>]";
/** Redis keys may be large, but a stream key in a URL has no business being longer. */
const MAX_STREAM_KEY_BYTES = 1024;

/**
 * Parses a Redis Streams target. Throws `request.invalid` ("url: must be …", details.field
 * "url") for anything else; the message never contains the target itself.
 */
export function parseRedisStreamsTarget(target: string): RedisStreamsTarget {
  const url = parseTargetUrl(target, FORM);
  const tls = url.protocol === "rediss:";
  if ((!tls && url.protocol !== "redis:") || url.hostname === "" || url.hash !== "") {
    throw invalid(FORM);
  }
  const path = url.pathname;
  if (path !== "" && path !== "/" && !/^\/(0|[1-9][0-9]{0,8})$/.test(path)) {
    throw invalid(`${FORM} (the path is the database number)`);
  }
  const db = path === "" || path === "/" ? 0 : Number(path.slice(1));
  checkQueryParameters(url, PARAMETERS, FORM);
  const stream = url.searchParams.get("stream");
  if (stream === null || stream === "") throw invalid(`${FORM} (stream is required)`);
  if (Buffer.byteLength(stream, "utf8") > MAX_STREAM_KEY_BYTES) {
    throw invalid(`stream must be at most ${MAX_STREAM_KEY_BYTES} bytes`);
  }
  const rawMaxlen = url.searchParams.get("maxlen");
  if (rawMaxlen !== null && !/^[1-9][0-9]{0,14}$/.test(rawMaxlen)) {
    throw invalid(`${FORM} (maxlen is a whole number ≥ 1)`);
  }
  const hostname = bareHostname(url);
  return {
    connectionKey: `${url.protocol}//${url.username}:${url.password}@${url.host}/${db}`,
    tls,
    hostname,
    port: url.port === "" ? 6379 : Number(url.port),
    username: url.username === "" ? undefined : decoded(url.username, "user"),
    password: url.password === "" ? undefined : decoded(url.password, "password"),
    db,
    stream,
    maxlen: rawMaxlen === null ? null : Number(rawMaxlen),
  };
}
