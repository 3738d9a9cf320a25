// The address a non-HTTP transport connects to, checked by the SSRF guard: the host is resolved
// once, every answer must be allowed, and the connection goes to that address (so a second,
// different DNS answer cannot slip an internal address past the check).
import type { SsrfGuard } from "../ssrfGuard.js";

/**
 * The first address of `host` when every address it resolves to is allowed; rejects with
 * `ssrf.blocked` (HeraldError) otherwise, or with the resolver's error (ENOTFOUND).
 */
export async function guardedAddress(guard: SsrfGuard, host: string): Promise<string> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const addresses = await guard.checkHost(bare);
  const first = addresses[0];
  if (first === undefined) throw new Error(`no address for ${bare}`);
  return first.address;
}

/** `user:password@` removed from a URL-shaped target, for errors and logs. */
export function withoutCredentials(target: string): string {
  try {
    const url = new URL(target);
    if (url.username === "" && url.password === "") return target;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return target.replace(/\/\/[^@/]*@/, "//");
  }
}
