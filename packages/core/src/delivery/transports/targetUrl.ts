// Parsing helpers shared by the URL targets of the broker transports (`amqp://…`, `redis://…`):
// one error shape (`request.invalid`, "url: …", details.field "url") that never echoes the
// target, and scrubbing of the password out of anything an attempt records.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** HeraldError("request.invalid", `url: ${problem}`, { details: { field: "url" } }). */
export function invalidTargetUrl(problem: string): HeraldError {
  return new HeraldError("request.invalid", `url: ${problem}`, { details: { field: "url" } });
}

/**
 * The URL of `target`; throws `invalidTargetUrl(form)` when it has white space or does not
 * parse (`form` says what the target must look like, never the target itself).
 */
export function parseTargetUrl(target: string, form: string): URL {
  try {
    if (/\s/.test(target)) throw new Error("white space");
    return new URL(target);
  } catch {
    throw invalidTargetUrl(form);
  }
}

/** Throws `invalidTargetUrl` for a query parameter not in `allowed`, or one given twice. */
export function checkQueryParameters(url: URL, allowed: ReadonlySet<string>, form: string): void {
  for (const name of url.searchParams.keys()) {
    if (!allowed.has(name)) {
      throw invalidTargetUrl(`${form} (unknown parameter ${JSON.stringify(name)})`);
    }
    if (url.searchParams.getAll(name).length > 1) {
      throw invalidTargetUrl(`${form} (parameter ${name} given twice)`);
    }
  }
}

/** A percent-encoded URL part (user, password, path) decoded; `what` names it in the error. */
export function decodedUrlPart(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalidTargetUrl(`${what} must be percent-encoded UTF-8`);
  }
}

/** The URL's host as written, without the brackets of an IPv6 literal (a TLS server name). */
export function bareHostname(url: URL): string {
  const { hostname } = url;
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * `text` with every occurrence of `password` replaced by `***`, so it never reaches an attempt
 * record even when a client library quoted it. Passwords under 4 characters are left alone
 * (replacing them would garble the text and hide nothing).
 */
export function scrubPassword(text: string, password: string | undefined): string {
  return password !== undefined && password.length >= 4 ? text.split(password).join("***") : text;
}
