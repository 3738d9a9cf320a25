// A gRPC endpoint's target: `grpc://host:port` (plaintext) or `grpcs://host:port` (TLS), parsed
// once and checked when an endpoint is created, so a wrong form never reaches a send.
import { isIP } from "node:net";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** Where one gRPC endpoint's calls go. */
export interface GrpcTarget {
  /** `grpcs://`: TLS with the system's roots (or the transport's `tlsRootCerts`). */
  tls: boolean;
  /** Lowercase name or IP literal, without brackets (`::1`, not `[::1]`). */
  host: string;
  port: number;
  /** `host:port` as a client dialling by name would send it (`[::1]:50051` for IPv6). */
  authority: string;
}

const FORM = "url: must be grpc://host:port (plaintext) or grpcs://host:port (TLS)";
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

function invalid(reason: string): HeraldError {
  // The target itself is never echoed: it may hold a password.
  return new HeraldError("request.invalid", `${FORM}${reason}`, { details: { field: "url" } });
}

/** Parses a target; throws `request.invalid` (field `url`) for any other form. */
export function parseGrpcTarget(target: string): GrpcTarget {
  if (typeof target !== "string" || !/^grpcs?:\/\//i.test(target)) throw invalid("");
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw invalid("");
  }
  if (url.username !== "" || url.password !== "") throw invalid(" (no credentials in the URL)");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw invalid(" (no path, query or fragment)");
  }
  if (url.port === "") throw invalid(" (the port is required)");
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid(" (port 1–65535)");
  const written = url.hostname.toLowerCase();
  const bracketed = written.startsWith("[") && written.endsWith("]");
  const host = bracketed ? written.slice(1, -1) : written;
  if (bracketed ? isIP(host) !== 6 : isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw invalid(" (a host name or IP address)");
  }
  const tls = url.protocol.toLowerCase() === "grpcs:";
  return { tls, host, port, authority: `${bracketed ? `[${host}]` : host}:${port}` };
}

/**
 * Throws HeraldError("request.invalid", "url: must be …", { details: { field: "url" } }) for a
 * target that is not `grpc://host:port` or `grpcs://host:port` (never echoing it); returns
 * nothing when it is fine.
 */
export function checkGrpcTarget(target: string): void {
  parseGrpcTarget(target);
}
