// Environment variables that override herald.yaml (and are overridden by CLI flags).

import { resolve } from "node:path";
import { parseCidrList } from "@heraldjs/core/internal/delivery/ipRanges.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { awsFromEnv, eventStoreFromEnv } from "./awsResolve.js";
import { AWS_ENV_VARS } from "./awsSettings.js";
import { LOG_LEVELS, type LogLevel, MAX_PORT } from "./fileSchema.js";
import { STREAM_ENV_VARS, streamSettingsFromEnv } from "./streamSettings.js";
import { natsDefaults } from "./transportConfig.js";
import { NATS_STREAM_PATTERN, type NatsSettings } from "./transportSettings.js";
import type { HeraldConfig } from "./types.js";

/** The variables read, with the setting each overrides. */
export const CONFIG_ENV_VARS = Object.freeze({
  HERALD_CONFIG: "the config file (default ./herald.yaml when it exists)",
  HERALD_DB: "database",
  HERALD_HOST: "server.host",
  HERALD_PORT: "server.port",
  HERALD_API_KEY: "server.api_key",
  HERALD_SSRF_ALLOW: "ssrf.allow",
  HERALD_LOG_LEVEL: "log.level",
  HERALD_NATS_URL: "nats.servers",
  HERALD_NATS_CREDS: "nats.creds_file",
  HERALD_NATS_USER: "nats.user",
  HERALD_NATS_PASSWORD: "nats.password",
  HERALD_NATS_TOKEN: "nats.token",
  HERALD_NATS_STREAM: "nats.stream",
  HERALD_ALLOW_UNSIGNED: "ingest.allow_unsigned",
  HERALD_CATALOG_CLOSED: "catalog.closed",
  ...STREAM_ENV_VARS,
  ...AWS_ENV_VARS,
});

type Env = Readonly<Record<string, string | undefined>>;

function badVariable(name: string, problem: string, cause?: unknown): HeraldError {
  return new HeraldError("config.invalid", `Environment variable ${name}: ${problem}`, {
    details: { variable: name },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** An unset or empty variable is absent. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Validated SSRF allowlist entries; throws config.invalid naming `what` and the entry. */
export function checkSsrfAllow(entries: readonly string[]): string[] {
  return parseCidrList(entries).entries.map((entry) => entry.text);
}

/**
 * The variable `name` as a boolean (`true`/`1`, `false`/`0`), undefined when unset; throws
 * `config.invalid` for any other value.
 */
function envBoolean(env: Env, name: keyof typeof CONFIG_ENV_VARS): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw badVariable(
    name,
    `must be true, false, 1 or 0 (got ${JSON.stringify(value.slice(0, 20))})`,
  );
}

/** HERALD_ALLOW_UNSIGNED as a boolean, undefined when unset (envBoolean). */
export function envAllowUnsigned(env: Env): boolean | undefined {
  return envBoolean(env, "HERALD_ALLOW_UNSIGNED");
}

/**
 * The config with HERALD_DB, HERALD_HOST, HERALD_PORT, HERALD_API_KEY, HERALD_SSRF_ALLOW,
 * HERALD_LOG_LEVEL, HERALD_STREAM_*, HERALD_AWS_*, HERALD_EVENT_STORE, HERALD_DYNAMODB_* and the rest of CONFIG_ENV_VARS applied. Throws `config.invalid` naming the variable for a bad value (the
 * API key's value is never shown).
 */
export function applyEnvOverrides(config: HeraldConfig, env: Env): HeraldConfig {
  const out: HeraldConfig = { ...config, server: { ...config.server } };
  const allowUnsigned = envAllowUnsigned(env);
  if (allowUnsigned !== undefined) out.ingest = { ...config.ingest, allowUnsigned };
  const catalogClosed = envBoolean(env, "HERALD_CATALOG_CLOSED");
  if (catalogClosed !== undefined) out.catalog = { closed: catalogClosed };
  const db = read(env, "HERALD_DB");
  if (db !== undefined) out.database = db;
  const host = read(env, "HERALD_HOST");
  if (host !== undefined) {
    if (/\s/.test(host) || host.length > 255) {
      throw badVariable("HERALD_HOST", "must be a host name or address without white space");
    }
    out.server.host = host;
  }
  const port = read(env, "HERALD_PORT");
  if (port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > MAX_PORT) {
      throw badVariable(
        "HERALD_PORT",
        `must be an integer from 0 to ${MAX_PORT} (got ${JSON.stringify(port.slice(0, 20))})`,
      );
    }
    out.server.port = Number(port);
  }
  const apiKey = read(env, "HERALD_API_KEY");
  if (apiKey !== undefined) {
    if (apiKey.length > 1024)
      throw badVariable("HERALD_API_KEY", "must be at most 1024 characters");
    out.server.apiKey = apiKey;
  }
  const allow = read(env, "HERALD_SSRF_ALLOW");
  if (allow !== undefined) {
    try {
      out.ssrfAllow = checkSsrfAllow([allow]);
    } catch (error) {
      if (!isHeraldError(error, "config.invalid")) throw error;
      throw badVariable("HERALD_SSRF_ALLOW", error.message, error);
    }
  }
  const level = read(env, "HERALD_LOG_LEVEL");
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw badVariable(
        "HERALD_LOG_LEVEL",
        `must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(level.slice(0, 20))})`,
      );
    }
    out.logLevel = level as LogLevel;
  }
  out.streams = { ...config.streams, ...streamSettingsFromEnv(env) };
  out.nats = natsOverrides(config.nats, env);
  out.aws = awsFromEnv(config.aws, env);
  out.eventStore = eventStoreFromEnv(config.eventStore, env);
  return out;
}

/** Every NATS variable but HERALD_NATS_URL, with the setting it replaces. */
const NATS_SETTINGS = {
  HERALD_NATS_CREDS: "credsFile",
  HERALD_NATS_USER: "user",
  HERALD_NATS_PASSWORD: "password",
  HERALD_NATS_TOKEN: "token",
  HERALD_NATS_STREAM: "stream",
} as const;

/**
 * HERALD_NATS_URL (comma- or space-separated servers) configures NATS even without a `nats:`
 * section; the other variables replace one setting each and need NATS configured. Values of
 * the password and token are never shown.
 */
function natsOverrides(nats: NatsSettings | null, env: Env): NatsSettings | null {
  const url = read(env, "HERALD_NATS_URL");
  let out = nats === null ? null : { ...nats };
  if (url !== undefined) {
    const servers = url.split(/[\s,]+/).filter((server) => server !== "");
    if (servers.length === 0) throw badVariable("HERALD_NATS_URL", "names no server");
    out = out === null ? natsDefaults(servers) : { ...out, servers };
  }
  for (const [name, key] of Object.entries(NATS_SETTINGS)) {
    const value = read(env, name);
    if (value === undefined) continue;
    if (out === null) {
      throw badVariable(name, "needs NATS configured: a nats: section or HERALD_NATS_URL");
    }
    if (key === "stream" && !NATS_STREAM_PATTERN.test(value)) {
      throw badVariable(
        name,
        "must be a JetStream stream name (no spaces, '.', '*', '>', '/' or '\\')",
      );
    }
    out[key] = key === "credsFile" ? resolve(value) : value;
  }
  return out;
}
