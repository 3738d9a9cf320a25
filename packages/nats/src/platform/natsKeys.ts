// Keys of the NATS platform: the account key that signs the callout's answers and the user JWTs,
// the auth user the callout service connects as, the xkey that encrypts requests and answers,
// and an operator key for operator-mode set-ups; with the nats.conf block that uses them.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { KeyPair } from "@nats-io/nkeys";
import { loadNatsPlatform } from "../bus/nats/load.js";

export interface NatsKey {
  /** The public key (O…, A…, U…, X…): safe to show and to put in nats.conf. */
  publicKey: string;
  /** The seed (SO…, SA…, SU…, SX…): a secret. */
  seed: string;
}

export interface NatsPlatformKeys {
  /** Signs the callout's authorization responses and the user JWTs in them (nats.conf `issuer`). */
  issuer: NatsKey;
  /** The callout service's own connection (nats.conf `auth_users`). */
  authUser: NatsKey;
  /** Encrypts requests and responses between nats-server and the callout (nats.conf `xkey`). */
  xkey: NatsKey;
  /** For operator-mode deployments (nsc); the config-mode block below does not use it. */
  operator: NatsKey;
}

const decoder = new TextDecoder();

function key(pair: KeyPair): NatsKey {
  return { publicKey: pair.getPublicKey(), seed: decoder.decode(pair.getSeed()) };
}

/** Fresh keys, from the system's secure random source. */
export async function generateNatsKeys(): Promise<NatsPlatformKeys> {
  const { createAccount, createCurve, createOperator, createUser } = (await loadNatsPlatform())
    .nkeys;
  return {
    issuer: key(createAccount()),
    authUser: key(createUser()),
    xkey: key(createCurve()),
    operator: key(createOperator()),
  };
}

const SEED_PREFIX = { account: "SA", user: "SU", curve: "SX" } as const;

/**
 * The key pair of a seed, checked to be of the expected kind; throws `config.invalid` naming
 * `field`, never the seed.
 */
export async function natsKeyFromSeed(
  seed: string,
  kind: keyof typeof SEED_PREFIX,
  field: string,
): Promise<KeyPair> {
  const text = seed.trim();
  if (!text.startsWith(SEED_PREFIX[kind])) {
    throw new HeraldError(
      "config.invalid",
      `${field} must be an NKey seed of kind ${kind} (it starts with ${SEED_PREFIX[kind]})`,
      { details: { field } },
    );
  }
  const { fromCurveSeed, fromSeed } = (await loadNatsPlatform()).nkeys;
  try {
    const bytes = new TextEncoder().encode(text);
    return kind === "curve" ? fromCurveSeed(bytes) : fromSeed(bytes);
  } catch {
    throw new HeraldError("config.invalid", `${field} is not a valid NKey seed`, {
      details: { field },
    });
  }
}

export interface NatsConfOptions {
  /** The account agents and browsers are placed in; default `APP`. */
  account?: string;
  /** The account the callout service's user lives in; default `AUTH`. */
  authAccount?: string;
  /** Whether requests and responses are encrypted with the xkey; default true. */
  encrypt?: boolean;
  /** Adds a `websocket` block on this port (browsers), without TLS: for local use only. */
  websocketPort?: number;
  /** Where JetStream keeps its files; default: nats-server's own default. */
  jetstreamStoreDir?: string;
}

/**
 * The nats.conf block (config mode: accounts in the file, no operator) that hands every
 * connection but the callout's own to Herald's auth callout.
 */
export function natsConfSnippet(
  keys: Pick<NatsPlatformKeys, "issuer" | "authUser" | "xkey">,
  options: NatsConfOptions = {},
): string {
  const account = options.account ?? "APP";
  const authAccount = options.authAccount ?? "AUTH";
  const lines = [
    "accounts {",
    `  ${authAccount}: { users: [ { nkey: ${keys.authUser.publicKey} } ] }`,
    `  ${account}: { jetstream: enabled }`,
    "  SYS: {}",
    "}",
    "system_account: SYS",
    options.jetstreamStoreDir === undefined
      ? "jetstream: {}"
      : `jetstream: { store_dir: ${JSON.stringify(options.jetstreamStoreDir)} }`,
    "authorization {",
    "  auth_callout {",
    `    issuer: ${keys.issuer.publicKey}`,
    `    auth_users: [ ${keys.authUser.publicKey} ]`,
    `    account: ${authAccount}`,
    ...(options.encrypt === false ? [] : [`    xkey: ${keys.xkey.publicKey}`]),
    "  }",
    "}",
  ];
  if (options.websocketPort !== undefined) {
    lines.push(
      "# Browsers connect here; put TLS in front of it (or set tls {}) outside local tests.",
      `websocket { port: ${options.websocketPort}, no_tls: true }`,
    );
  }
  return `${lines.join("\n")}\n`;
}
