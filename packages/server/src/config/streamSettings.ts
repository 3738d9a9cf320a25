// The live streams' settings (/v1/stream, /v1/stream/ws): their defaults, and one table of each
// setting's herald.yaml key (`streams:`), environment variable and bounds, from which the
// file's schema and the environment's reader are both made.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { z } from "zod";

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

/** Each setting: its key under `streams:` in herald.yaml, its variable, and its bounds. */
export const STREAM_SETTINGS = Object.freeze({
  pollMs: { file: "poll_ms", env: "HERALD_STREAM_POLL_MS", min: 10, max: 60_000 },
  heartbeatMs: {
    file: "heartbeat_ms",
    env: "HERALD_STREAM_HEARTBEAT_MS",
    min: 100,
    max: 3_600_000,
  },
  maxBufferedBytes: {
    file: "max_buffer_bytes",
    env: "HERALD_STREAM_MAX_BUFFER_BYTES",
    min: 1024,
    max: 1024 ** 3,
  },
  retryMs: { file: "retry_ms", env: "HERALD_STREAM_RETRY_MS", min: 0, max: 3_600_000 },
} as const);

type StreamSettingsTable = typeof STREAM_SETTINGS;
/** A key of the `streams:` section: `poll_ms`, `heartbeat_ms`, … */
export type StreamFileKey = StreamSettingsTable[keyof StreamSettingsTable]["file"];
/** A variable that sets a stream setting: `HERALD_STREAM_POLL_MS`, … */
export type StreamEnvVar = StreamSettingsTable[keyof StreamSettingsTable]["env"];

const settingEntries = Object.entries(STREAM_SETTINGS) as [
  keyof StreamSettings,
  StreamSettingsTable[keyof StreamSettingsTable],
][];

/** herald.yaml's `streams:` section: whole numbers within each setting's bounds. */
export const streamsSectionSchema = z
  .strictObject(
    Object.fromEntries(
      settingEntries.map(([, { file, min, max }]) => [file, z.int().min(min).max(max).optional()]),
    ) as Record<StreamFileKey, z.ZodOptional<z.ZodInt>>,
  )
  .nullable()
  .optional();

/** The `streams:` section as parsed (absent or empty: null/undefined). */
export type StreamsSection = z.output<typeof streamsSectionSchema>;

/** The settings of a parsed `streams:` section, defaults for what it leaves out. */
export function streamSettingsFromFile(section: StreamsSection): StreamSettings {
  const out: StreamSettings = { ...STREAM_DEFAULTS };
  for (const [key, { file }] of settingEntries) {
    const value = section?.[file];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Each variable with the herald.yaml key it overrides (`streams.poll_ms`). */
export const STREAM_ENV_VARS = Object.freeze(
  Object.fromEntries(settingEntries.map(([, { env, file }]) => [env, `streams.${file}`])) as Record<
    StreamEnvVar,
    string
  >,
);

/** The settings the environment sets; throws `config.invalid` naming a bad variable. */
export function streamSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<StreamSettings> {
  const out: Partial<StreamSettings> = {};
  for (const [key, { env: name, min, max }] of settingEntries) {
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
