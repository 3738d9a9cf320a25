// The auth callout service: nats-server asks it, on $SYS.REQ.USER.AUTH, whether a connecting
// client may in; it looks the presented token up in Herald's database (natsTokens.ts) and answers
// with an authorization response carrying a user JWT, signed by the issuer account key, whose
// permissions follow the subject convention (natsSubjects.ts) — or with a refusal.
//
// Requests are JWTs signed by the server; with an xkey they arrive sealed to ours and the answer
// is sealed to the server's (header Nats-Server-Xkey). A request that cannot be decrypted,
// decoded or verified gets no answer at all: only the server could have sent a valid one.

import {
  checkNatsToken,
  type NatsTokenRefusalReason,
} from "@heraldjs/core/internal/delivery/natsTokens.js";
import type { NatsIdentity } from "@heraldjs/core/internal/model/natsTokenRecords.js";
import type { NatsTokenStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { KeyPair } from "@nats-io/nkeys";
import type { Msg, Subscription } from "@nats-io/transport-node";
import {
  loadNats,
  loadNatsPlatform,
  type NatsConnectionOptions,
  openConnection,
} from "../bus/nats/load.js";
import { natsKeyFromSeed } from "./natsKeys.js";
import { natsPermissions } from "./natsSubjects.js";

/** The subject nats-server sends authorization requests to. */
export const AUTH_CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH";
/** Queue group: several callout services share the requests. */
export const AUTH_CALLOUT_QUEUE = "herald-auth-callout";

export interface NatsAuthCalloutOptions extends NatsConnectionOptions {
  /** Seed (SA…) of the account key nats.conf names as the callout's `issuer`. */
  issuerSeed: string;
  /** Seed (SU…) of the auth user the service connects as, unless `connection`/`connectOptions` say otherwise. */
  authUserSeed?: string;
  /** Seed (SX…) of the xkey nats.conf names as the callout's `xkey`; needed when it names one. */
  xkeySeed?: string;
  /** The account connections are placed in (the user JWT's audience); default `APP`. */
  account?: string;
  tokens: Pick<NatsTokenStore, "findNatsToken">;
  /**
   * Lifetime of the user JWTs, in seconds. When it passes nats-server closes the connection, the
   * client reconnects and the token is checked again: a bound on how long a revoked token's
   * connection lives. Default: none (a token with an expiry still ends its JWTs there).
   */
  userJwtTtlS?: number;
  /** Requests handled at once; default 64. */
  concurrency?: number;
  clock?: Clock;
  /** Called once per request answered or dropped, for logs and metrics. Never holds the token. */
  onDecision?: (decision: NatsAuthDecision) => void;
}

export type NatsAuthRefusalReason =
  | NatsTokenRefusalReason
  /** The request could not be decrypted, decoded or verified (no answer is sent). */
  | "bad_request"
  /** Herald's database did not answer (the connection is refused, fail closed). */
  | "store_unavailable";

export type NatsAuthDecision =
  | {
      allowed: true;
      identity: NatsIdentity;
      subjectId: string;
      tenant: string;
      tokenId: string;
      clientHost: string | undefined;
      durationMs: number;
    }
  | {
      allowed: false;
      reason: NatsAuthRefusalReason;
      /** The token's id when the token was found (expired, revoked). */
      tokenId?: string;
      clientHost: string | undefined;
      durationMs: number;
      /** What went wrong, for `bad_request` and `store_unavailable`; never a secret. */
      detail?: string;
    };

export interface NatsAuthCalloutStats {
  allowed: number;
  refused: Partial<Record<NatsAuthRefusalReason, number>>;
}

export interface NatsAuthCallout {
  /** Stops taking requests, answers those in flight, and closes the connection it opened. */
  stop(): Promise<void>;
  /** Resolves when the connection is closed for good (stop(), or the server refused us). */
  readonly closed: Promise<void>;
  stats(): NatsAuthCalloutStats;
}

export interface AuthorizationRequest {
  server_id?: { id?: unknown; xkey?: unknown };
  user_nkey?: unknown;
  client_info?: { host?: unknown };
  connect_opts?: { auth_token?: unknown; pass?: unknown };
  type?: unknown;
}

export class BadAuthorizationRequest extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function keysOf(
  options: NatsAuthCalloutOptions,
): Promise<{ issuer: KeyPair; xkey: KeyPair | undefined }> {
  return {
    issuer: await natsKeyFromSeed(options.issuerSeed, "account", "issuerSeed"),
    xkey:
      options.xkeySeed === undefined
        ? undefined
        : await natsKeyFromSeed(options.xkeySeed, "curve", "xkeySeed"),
  };
}

/**
 * The claims of an authorization request, decrypted (when the server sealed it to our xkey) and
 * verified: a JWT of type authorization_request signed by the server it names, not expired by
 * the wall clock. Throws BadAuthorizationRequest saying what is wrong, never the content.
 */
export async function readAuthorizationRequest(
  payload: Uint8Array,
  serverXkey: string | undefined,
  xkey: KeyPair | undefined,
  nowMs: number = Date.now(),
): Promise<AuthorizationRequest> {
  const { decode } = (await loadNatsPlatform()).jwt;
  let data = payload;
  if (serverXkey !== undefined) {
    if (xkey === undefined) {
      throw new BadAuthorizationRequest("the request is encrypted, and no xkey is configured");
    }
    let opened: Uint8Array | null = null;
    try {
      opened = xkey.open(data, serverXkey);
    } catch {
      opened = null;
    }
    if (opened === null) {
      throw new BadAuthorizationRequest("the request does not decrypt with the xkey");
    }
    data = opened;
  }
  let jwt: { iss: string; exp?: number; nats: AuthorizationRequest };
  try {
    jwt = decode<AuthorizationRequest>(decoder.decode(data));
  } catch (error) {
    throw new BadAuthorizationRequest(
      `the request is not a signed JWT (${(error as Error).message})`,
    );
  }
  const claims = jwt.nats;
  const serverId = claims?.server_id?.id;
  if (claims?.type !== "authorization_request" || typeof claims.user_nkey !== "string") {
    throw new BadAuthorizationRequest("the JWT is not an authorization request");
  }
  // Only the server itself signs its requests.
  if (typeof serverId !== "string" || jwt.iss !== serverId) {
    throw new BadAuthorizationRequest("the request is not signed by the server it names");
  }
  if (typeof jwt.exp === "number" && jwt.exp * 1000 < nowMs - 5000) {
    throw new BadAuthorizationRequest("the request has expired");
  }
  return claims;
}

/** Connects and starts answering; rejects with `config.invalid` or `bus.unavailable`. */
export async function startNatsAuthCallout(
  options: NatsAuthCalloutOptions,
): Promise<NatsAuthCallout> {
  const clock = options.clock ?? systemClock;
  const account = options.account ?? "APP";
  const concurrency = options.concurrency ?? 64;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(account)) {
    throw new HeraldError("config.invalid", "account must be a NATS account name", {
      details: { field: "account" },
    });
  }
  if (
    options.userJwtTtlS !== undefined &&
    !(Number.isSafeInteger(options.userJwtTtlS) && options.userJwtTtlS > 0)
  ) {
    throw new HeraldError("config.invalid", "userJwtTtlS must be a positive whole number", {
      details: { field: "userJwtTtlS" },
    });
  }
  const { issuer, xkey } = await keysOf(options);
  const { encodeAuthorizationResponse, encodeUser } = (await loadNatsPlatform()).jwt;
  const connectOptions = { ...options.connectOptions };
  if (options.authUserSeed !== undefined && options.connection === undefined) {
    await natsKeyFromSeed(options.authUserSeed, "user", "authUserSeed");
    const { transport } = await loadNats();
    connectOptions.authenticator = transport.nkeyAuthenticator(
      encoder.encode(options.authUserSeed.trim()),
    );
  }
  const opened = await openConnection({
    ...options,
    connectOptions: {
      name: "herald-auth-callout",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...connectOptions,
    },
  });
  const { connection } = opened;
  const stats: NatsAuthCalloutStats = { allowed: 0, refused: {} };
  const decide = (decision: NatsAuthDecision) => {
    if (decision.allowed) stats.allowed++;
    else stats.refused[decision.reason] = (stats.refused[decision.reason] ?? 0) + 1;
    options.onDecision?.(decision);
  };

  async function answer(
    msg: Msg,
    claims: AuthorizationRequest,
    serverXkey: string | undefined,
    data: { jwt: string } | { error: string },
  ): Promise<void> {
    const response = await encodeAuthorizationResponse(
      claims.user_nkey as string,
      claims.server_id?.id as string,
      issuer,
      data,
      {},
    );
    const plain = encoder.encode(response);
    const sealed =
      serverXkey !== undefined && xkey !== undefined ? xkey.seal(plain, serverXkey) : plain;
    msg.respond(Uint8Array.from(sealed));
  }

  async function handle(msg: Msg): Promise<void> {
    const started = clock.now();
    let clientHost: string | undefined;
    const elapsed = () => Math.max(0, clock.now() - started);
    const serverXkey = msg.headers?.get("Nats-Server-Xkey") || undefined;
    let claims: AuthorizationRequest;
    try {
      claims = await readAuthorizationRequest(msg.data, serverXkey, xkey);
    } catch (error) {
      decide({
        allowed: false,
        reason: "bad_request",
        clientHost,
        durationMs: elapsed(),
        detail: error instanceof BadAuthorizationRequest ? error.message : "unreadable request",
      });
      return;
    }
    clientHost = typeof claims.client_info?.host === "string" ? claims.client_info.host : undefined;
    const opts = claims.connect_opts ?? {};
    const presented =
      typeof opts.auth_token === "string" && opts.auth_token !== ""
        ? opts.auth_token
        : typeof opts.pass === "string"
          ? opts.pass
          : undefined;
    let check: Awaited<ReturnType<typeof checkNatsToken>>;
    try {
      check = await checkNatsToken(options.tokens, presented, { clock });
    } catch (error) {
      decide({
        allowed: false,
        reason: "store_unavailable",
        clientHost,
        durationMs: elapsed(),
        detail: error instanceof HeraldError ? error.code : "lookup failed",
      });
      await answer(msg, claims, serverXkey, { error: "authorization service unavailable" });
      return;
    }
    if (!check.ok) {
      decide({
        allowed: false,
        reason: check.reason,
        ...(check.tokenId === undefined ? {} : { tokenId: check.tokenId }),
        clientHost,
        durationMs: elapsed(),
      });
      // The client learns only that it was refused, never which check failed.
      await answer(msg, claims, serverXkey, { error: "not authorized" });
      return;
    }
    const { record } = check;
    const nowS = Math.floor(clock.now() / 1000);
    const ends = [
      record.expiresAt === null ? undefined : Math.floor(Date.parse(record.expiresAt) / 1000),
      options.userJwtTtlS === undefined ? undefined : nowS + options.userJwtTtlS,
    ].filter((value): value is number => value !== undefined);
    const user = await encodeUser(
      `${record.identity}.${record.subjectId}`,
      claims.user_nkey as string,
      issuer,
      {
        ...natsPermissions(record.identity, record.subjectId, record.tenant),
        tags: [`identity:${record.identity}`, `tenant:${record.tenant}`, `token:${record.id}`],
      },
      { aud: account, ...(ends.length > 0 ? { exp: Math.min(...ends) } : {}) },
    );
    await answer(msg, claims, serverXkey, { jwt: user });
    decide({
      allowed: true,
      identity: record.identity,
      subjectId: record.subjectId,
      tenant: record.tenant,
      tokenId: record.id,
      clientHost,
      durationMs: elapsed(),
    });
  }

  const subscription: Subscription = connection.subscribe(AUTH_CALLOUT_SUBJECT, {
    queue: AUTH_CALLOUT_QUEUE,
  });
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const msg of subscription) {
      const task = handle(msg)
        .catch((error: unknown) => {
          decide({
            allowed: false,
            reason: "bad_request",
            clientHost: undefined,
            durationMs: 0,
            detail: `answer failed: ${(error as Error).message}`,
          });
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  })();
  // Make sure the server knows of the subscription before we say we are ready.
  await connection.flush();

  const closed = connection.closed().then(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    stats: () => ({ allowed: stats.allowed, refused: { ...stats.refused } }),
    closed,
    stop() {
      stopping ??= (async () => {
        subscription.unsubscribe();
        await loop.catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        await opened.release();
      })();
      return stopping;
    },
  };
}
