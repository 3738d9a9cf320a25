// SSRF guard: refuses outbound connections to internal addresses, checked at connect time.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction, type Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { Agent, buildConnector } from "undici";
import {
  type AddressVerdict,
  type BlockReason,
  type CidrList,
  classifyAddress,
  normalizeAddress,
  parseCidrList,
} from "./ipRanges.js";

/** Resolves a hostname to every address it has (like `dns.lookup` with `all: true`). */
export type HostResolver = (
  hostname: string,
  family: 0 | 4 | 6,
) => Promise<readonly LookupAddress[]>;

export interface SsrfGuardOptions {
  /** CIDRs to let through anyway (`ssrf.allow` / HERALD_SSRF_ALLOW), e.g. "127.0.0.0/8,::1/128". */
  allow?: string | readonly string[] | CidrList;
  /** Name resolution; defaults to `dns.lookup` (the OS resolver, /etc/hosts included). */
  lookup?: HostResolver;
}

/** Connector options the guard leaves to the caller (everything but where to connect). */
type GuardedConnectOptions = Omit<
  ConnectionOptions,
  "host" | "port" | "path" | "socket" | "lookup"
> & {
  timeout?: number | null;
  keepAlive?: boolean | null;
  keepAliveInitialDelay?: number | null;
  allowH2?: boolean;
  maxCachedSessions?: number | null;
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
};

type GuardedAgentOptions = Omit<Agent.Options, "connect" | "socketPath"> & {
  connect?: GuardedConnectOptions;
};

export interface SsrfGuard {
  readonly allow: CidrList;
  /** Classifies one IP address against the default block list and the allowlist. */
  checkAddress(ip: string): AddressVerdict;
  /**
   * Resolves a hostname (or takes an IP literal) and throws `ssrf.blocked` when any address is
   * blocked. For early feedback (e.g. creating an endpoint) only: the answer may change before
   * the connection, so the connect-time check in `lookup` / `createGuardedAgent` is the guard.
   */
  checkHost(host: string): Promise<readonly LookupAddress[]>;
  /** A `lookup` for net/tls/undici connect options that fails on any blocked address. */
  readonly lookup: LookupFunction;
  /** An undici Agent whose every connection goes through the guard (redirects are not followed). */
  createGuardedAgent(options?: GuardedAgentOptions): Agent;
}

/** True when `error` (or anything in its `cause` chain) is an `ssrf.blocked` refusal. */
export function isSsrfBlocked(error: unknown): error is Error {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (isHeraldError(current, "ssrf.blocked")) return true;
    current = current.cause;
  }
  return false;
}

function blockedError(host: string, address: string, reason: BlockReason): HeraldError {
  return new HeraldError(
    "ssrf.blocked",
    `Refusing to connect to ${host} (${address}): ${reason.replace("_", "-")} address blocked by ` +
      "the SSRF guard; allowlist it with ssrf.allow / HERALD_SSRF_ALLOW if this is intended",
    { details: { host, address, reason } },
  );
}

function toFamily(family: number | string | undefined): 0 | 4 | 6 {
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return 0;
}

/**
 * Legacy numeric spellings (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`) become the IP
 * they mean, as WHATWG URL parsing does, so they are vetted as literals and never sent to DNS.
 */
function canonicalHost(raw: string): string {
  const host = normalizeAddress(raw);
  if (isIP(host) !== 0 || !/^[0-9a-fx.]+$/.test(host)) return host;
  try {
    return normalizeAddress(new URL(`http://${host}/`).hostname);
  } catch {
    return host;
  }
}

const systemResolver: HostResolver = (hostname, family) =>
  dnsLookup(hostname, { all: true, family });

export function createSsrfGuard(options: SsrfGuardOptions = {}): SsrfGuard {
  const allow =
    options.allow === undefined
      ? parseCidrList([])
      : typeof options.allow === "string" || Array.isArray(options.allow)
        ? parseCidrList(options.allow as string | readonly string[])
        : (options.allow as CidrList);
  const resolve = options.lookup ?? systemResolver;

  const checkAddress = (ip: string): AddressVerdict => classifyAddress(ip, { allow });

  const assertAllowed = (host: string, address: string): void => {
    const verdict = checkAddress(address);
    if (!verdict.allowed) throw blockedError(host, verdict.address, verdict.reason);
  };

  const checkHost = async (
    rawHost: string,
    family: 0 | 4 | 6 = 0,
  ): Promise<readonly LookupAddress[]> => {
    const host = canonicalHost(rawHost);
    const literal = isIP(host);
    if (literal !== 0) {
      assertAllowed(host, host);
      return [{ address: host, family: literal }];
    }
    const addresses = await resolve(host, family);
    if (addresses.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: "ENOTFOUND",
        hostname: host,
      });
    }
    // Every answer must pass: a resolver may hand out a public and a private address at once.
    for (const { address } of addresses) assertAllowed(host, address);
    return addresses;
  };

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    checkHost(hostname, toFamily(lookupOptions.family)).then(
      (addresses) => {
        if (lookupOptions.all) {
          callback(
            null,
            addresses.map(({ address, family }) => ({ address, family })),
          );
        } else {
          const first = addresses[0]!;
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error));
        callback(err, "");
      },
    );
  };

  const createGuardedAgent = (agentOptions: GuardedAgentOptions = {}): Agent => {
    const { connect: connectOptions, ...rest } = agentOptions;
    const base = buildConnector({ ...connectOptions, lookup });
    const connect: buildConnector.connector = (target, callback) => {
      if (target.socketPath) {
        callback(
          new HeraldError("ssrf.blocked", "Refusing to connect through a Unix socket", {
            details: { host: target.socketPath, address: target.socketPath, reason: "invalid" },
          }),
          null,
        );
        return;
      }
      // Node skips `lookup` for IP literals, so they are checked here, before any packet.
      const host = normalizeAddress(target.hostname);
      if (isIP(host) !== 0) {
        const verdict = checkAddress(host);
        if (!verdict.allowed) {
          callback(blockedError(host, verdict.address, verdict.reason), null);
          return;
        }
      }
      base(target, (error, socket) => {
        if (error !== null) {
          callback(error, null);
          return;
        }
        // Belt and braces: vet the peer the kernel actually connected to.
        const remote = (socket as Socket).remoteAddress;
        const verdict: AddressVerdict =
          remote === undefined
            ? { allowed: false, address: "unknown", reason: "invalid" }
            : checkAddress(remote);
        if (!verdict.allowed) {
          socket.destroy();
          callback(blockedError(host, verdict.address, verdict.reason), null);
          return;
        }
        callback(null, socket);
      });
    };
    return new Agent({ ...rest, connect });
  };

  return {
    allow,
    checkAddress,
    checkHost: (host) => checkHost(host),
    lookup,
    createGuardedAgent,
  };
}
