// The live streams' settings (/v1/stream, /v1/stream/ws): their defaults, stated once, and the
// environment variables that change them.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export interface StreamSettings {
  /** How often the process's one reader asks the store for new messages. */
  pollMs: number;
  /** A `: ping` comment (SSE) or a ping frame (WebSocket) this often; a token check too. */
  heartbeatMs: number;
  /**
   * Most bytes written to one stream's socket and not yet taken by the client: a client that
   * stops reading is cut off once its socket holds more (never letting the server's memory grow).
   */
  maxBufferedBytes: number;
  /** What SSE tells browsers to wait before reconnecting (the `retry:` field). */
  retryMs: number;
}

export const STREAM_DEFAULTS: Readonly<StreamSettings> = Object.freeze({
  pollMs: 200,
  heartbeatMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  retryMs: 1000,
});

/** Each variable, the setting it sets, and its bounds. */
export const STREAM_ENV_VARS = Object.freeze({
  HERALD_STREAM_POLL_MS: { key: "pollMs", min: 10, max: 60_000 },
  HERALD_STREAM_HEARTBEAT_MS: { key: "heartbeatMs", min: 100, max: 3_600_000 },
  HERALD_STREAM_MAX_BUFFER_BYTES: { key: "maxBufferedBytes", min: 1024, max: 1024 ** 3 },
  HERALD_STREAM_RETRY_MS: { key: "retryMs", min: 0, max: 3_600_000 },
} as const);

/** The settings the environment sets; throws `config.invalid` naming a bad variable. */
export function streamSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<StreamSettings> {
  const out: Partial<StreamSettings> = {};
  for (const [name, { key, min, max }] of Object.entries(STREAM_ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const n = Number(value);
    if (!/^[0-9]{1,10}$/.test(value) || n < min || n > max) {
      throw new HeraldError(
        "config.invalid",
        `Environment variable ${name}: must be a whole number from ${min} to ${max}`,
        { details: { variable: name } },
      );
    }
    out[key] = n;
  }
  return out;
}
