// Environment variables that override herald.yaml (and are overridden by CLI flags).

import { parseCidrList } from "@heraldjs/core/internal/delivery/ipRanges.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { LOG_LEVELS, type LogLevel, MAX_PORT } from "./fileSchema.js";
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
 * The config with HERALD_DB, HERALD_HOST, HERALD_PORT, HERALD_API_KEY, HERALD_SSRF_ALLOW and
 * HERALD_LOG_LEVEL applied. Throws `config.invalid` naming the variable for a bad value (the
 * API key's value is never shown).
 */
export function applyEnvOverrides(config: HeraldConfig, env: Env): HeraldConfig {
  const out: HeraldConfig = { ...config, server: { ...config.server } };
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
  return out;
}
