// Turns what a failed send threw into the attempt log's `error`: a stable prefix, no secrets.
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  "ETIMEDOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
]);

function chain(error: unknown): unknown[] {
  const links: unknown[] = [];
  let current = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    links.push(current);
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return links;
}

function field(value: unknown, key: "code" | "message" | "name"): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/**
 * `ssrf.blocked: <guard message>` · `request.invalid: <undici argument error>` ·
 * `network: <CODE> <message>` (the innermost error that has a code, e.g. ECONNREFUSED).
 * `timeout: …` for undici's own connect/headers/body timeouts, which may fire just before
 * the attempt's deadline does.
 */
export function describeSendError(error: unknown, timeoutMs: number): string {
  const links = chain(error);
  if (
    links.some(
      (link) =>
        field(link, "name") === "TimeoutError" || TIMEOUT_CODES.has(field(link, "code") ?? ""),
    )
  ) {
    return timeoutError(timeoutMs);
  }
  const blocked = links.find((link) => isHeraldError(link, "ssrf.blocked"));
  if (blocked !== undefined)
    return `ssrf.blocked: ${field(blocked, "message") ?? "address refused"}`;
  const invalid = links.find((link) => field(link, "code") === "UND_ERR_INVALID_ARG");
  if (invalid !== undefined)
    return `request.invalid: ${field(invalid, "message") ?? "invalid request"}`;
  const coded = [...links].reverse().find((link) => field(link, "code") !== undefined);
  const source = coded ?? links[0];
  const code = field(source, "code");
  const message =
    field(source, "message") ?? (typeof error === "string" ? error : "request failed");
  return `network: ${code !== undefined && !message.includes(code) ? `${code} ` : ""}${message}`;
}

export function timeoutError(timeoutMs: number): string {
  return `timeout: no complete response within ${timeoutMs} ms`;
}
