// loadConfig: herald.yaml (or no file) + environment → a typed HeraldConfig. Every error is a
// `config.invalid` HeraldError naming the file, line:column and key path, never a secret.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  configError,
  interpolateEnv,
  parseYaml,
  positionOf,
  type YamlSource,
} from "@heraldjs/spec/internal/config/yamlSource.js";
import { toRetryPolicy } from "@heraldjs/spec/internal/wire/retry.js";
import {
  formatPath,
  type IssuePath,
  zodErrorToHerald,
} from "@heraldjs/spec/internal/wire/zodIssues.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { toEndpointInput } from "../wire/endpoint.js";
import { toEventTypeInput } from "../wire/eventType.js";
import { toSourceInput } from "../wire/source.js";
import {
  AwsSettingError,
  awsFromFile,
  envEventStoreBackend,
  eventStoreFromFile,
} from "./awsResolve.js";
import type { EventStoreBackend } from "./awsSettings.js";
import { applyEnvOverrides, checkSsrfAllow, envAllowUnsigned } from "./envOverrides.js";
import { CONFIG_DEFAULTS, type ConfigFile, configFileSchema } from "./fileSchema.js";
import { streamSettingsFromFile } from "./streamSettings.js";
import { type ConfigLocator, natsFromFile, withTransports } from "./transportConfig.js";
import type { ConfigEndpoint, HeraldConfig } from "./types.js";

export interface LoadConfigOptions {
  /** The config file; default HERALD_CONFIG, else ./herald.yaml when it exists, else none. */
  path?: string;
  /** Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where relative paths start; default process.cwd(). */
  cwd?: string;
}

export const DEFAULT_CONFIG_FILE = "herald.yaml";

/** `a.b[2].c` / `headers["X Y"]` / `filter.payload.x-id.$gte` → path segments. */
export function parseFieldPath(field: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  const re = /([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const match of field.matchAll(re)) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else if (match[3] !== undefined) out.push(JSON.parse(match[3]) as string);
  }
  return out;
}

interface Located {
  source: YamlSource | undefined;
  file: string | undefined;
}

/**
 * Re-raises a converter's `request.invalid` (details.field) or an endpoint's `filter.invalid`
 * (details.path, `filter.payload.total.$gte`) as config.invalid at `prefix`.
 */
function convert<T>(at: Located, prefix: IssuePath, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (
      !isHeraldError(error, "request.invalid") &&
      !isHeraldError(error, "config.invalid") &&
      !isHeraldError(error, "source.unsigned_not_allowed") &&
      !isHeraldError(error, "filter.invalid")
    ) {
      throw error;
    }
    const named = error.code === "filter.invalid" ? error.details?.path : error.details?.field;
    const field = typeof named === "string" ? named : "";
    const path = [...prefix, ...parseFieldPath(field)];
    const problem =
      field !== "" && error.message.startsWith(`${field}: `)
        ? error.message.slice(field.length + 2)
        : error.message;
    const position = at.source === undefined ? undefined : positionOf(at.source, path);
    throw configError(at.file, position, path, problem, error);
  }
}

/** An AwsSettingError of a setting under `section` → config.invalid at its key's line. */
function atAwsKey<T>(at: Located, section: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof AwsSettingError)) throw error;
    const path = [section, ...error.key.split(".")];
    const position = at.source === undefined ? undefined : positionOf(at.source, path);
    throw configError(at.file, position, path, error.problem, error.error);
  }
}

/** Duplicate names in a list → an error naming both lines. */
function checkUnique(
  at: Located,
  list: string,
  key: string,
  what: string,
  values: readonly string[],
): void {
  const seen = new Map<string, number>();
  values.forEach((value, index) => {
    const first = seen.get(value);
    if (first === undefined) {
      seen.set(value, index);
      return;
    }
    const firstPath = [list, first, key];
    const path = [list, index, key];
    const firstPos = at.source === undefined ? undefined : positionOf(at.source, firstPath);
    const where =
      firstPos === undefined
        ? formatPath(firstPath)
        : `${formatPath(firstPath)} at line ${firstPos.line}`;
    throw configError(
      at.file,
      at.source === undefined ? undefined : positionOf(at.source, path),
      path,
      `duplicate ${what} ${JSON.stringify(value)}: already used by ${where}`,
    );
  });
}

/** What the environment decides before the file is read: the file is checked against it. */
interface EnvFirst {
  /** HERALD_ALLOW_UNSIGNED, which the file's sources are checked against too. */
  unsigned: boolean | undefined;
  /** HERALD_EVENT_STORE: the file's DynamoDB tables apply when it says dynamodb. */
  eventStore: EventStoreBackend | undefined;
}

function envFirst(env: NonNullable<LoadConfigOptions["env"]>): EnvFirst {
  return { unsigned: envAllowUnsigned(env), eventStore: envEventStoreBackend(env) };
}

function fromFile(
  parsed: ConfigFile,
  at: Located,
  file: string | null,
  fromEnv: EnvFirst,
): HeraldConfig {
  const envUnsigned = fromEnv.unsigned;
  const allowUnsigned = envUnsigned ?? parsed.ingest?.allow_unsigned ?? false;
  const eventTypes = parsed.event_types ?? [];
  const sources = parsed.sources ?? [];
  const endpoints = parsed.endpoints ?? [];
  checkUnique(
    at,
    "event_types",
    "name",
    "event type",
    eventTypes.map((e) => e.name),
  );
  checkUnique(
    at,
    "sources",
    "name",
    "source name",
    sources.map((s) => s.name),
  );
  checkUnique(
    at,
    "endpoints",
    "id",
    "endpoint id",
    endpoints.map((e) => e.id),
  );
  const allow = parsed.ssrf?.allow ?? [];
  allow.forEach((entry, index) => {
    convert(at, ["ssrf", "allow", index], () => checkSsrfAllow([entry]));
  });
  return {
    file,
    server: {
      host: parsed.server?.host ?? CONFIG_DEFAULTS.host,
      port: parsed.server?.port ?? CONFIG_DEFAULTS.port,
      apiKey: parsed.server?.api_key ?? null,
      bodyLimitBytes: parsed.server?.body_limit_bytes ?? CONFIG_DEFAULTS.bodyLimitBytes,
      maxInFlightBodyBytes:
        parsed.server?.max_inflight_body_bytes ?? CONFIG_DEFAULTS.maxInFlightBodyBytes,
      bodyTimeoutMs: parsed.server?.body_timeout_ms ?? CONFIG_DEFAULTS.bodyTimeoutMs,
      requestDeadlineMs: parsed.server?.request_deadline_ms ?? CONFIG_DEFAULTS.requestDeadlineMs,
    },
    database: parsed.database ?? null,
    retry:
      parsed.retry === undefined || parsed.retry === null
        ? null
        : convert(at, [], () => toRetryPolicy(parsed.retry!, "retry")),
    ssrfAllow: checkSsrfAllow(allow),
    worker: {
      enabled: parsed.worker?.enabled ?? CONFIG_DEFAULTS.workerEnabled,
      concurrency: parsed.worker?.concurrency ?? CONFIG_DEFAULTS.concurrency,
      leaseMs: parsed.worker?.lease_ms ?? CONFIG_DEFAULTS.leaseMs,
      pollIntervalMs: parsed.worker?.poll_interval_ms ?? CONFIG_DEFAULTS.pollIntervalMs,
    },
    ingest: {
      maxBatch: parsed.ingest?.max_batch ?? CONFIG_DEFAULTS.maxBatch,
      maxWaitMs: parsed.ingest?.max_wait_ms ?? CONFIG_DEFAULTS.maxWaitMs,
      allowUnsigned,
    },
    logLevel: parsed.log?.level ?? CONFIG_DEFAULTS.logLevel,
    catalog: { closed: parsed.catalog?.closed ?? CONFIG_DEFAULTS.catalogClosed },
    streams: streamSettingsFromFile(parsed.streams),
    eventTypes: eventTypes.map((wire, i) =>
      convert(at, ["event_types", i], () => toEventTypeInput(wire)),
    ),
    sources: sources.map((wire, i) =>
      convert(at, ["sources", i], () => toSourceInput(wire, { allowUnsigned })),
    ),
    endpoints: endpoints.map((wire, i): ConfigEndpoint => {
      const { input } = convert(at, ["endpoints", i], () => toEndpointInput(wire));
      return { input: { ...input, id: wire.id }, secretGiven: wire.secret !== undefined };
    }),
    nats: natsFromFile(parsed.nats, file),
    functions: null, // loaded by withTransports
    aws: atAwsKey(at, "aws", () => awsFromFile(parsed.aws)),
    eventStore: atAwsKey(at, "event_store", () =>
      eventStoreFromFile(parsed.event_store, fromEnv.eventStore),
    ),
  };
}

/** Which file to read: [path for messages, absolute path], or undefined for none. */
function chooseFile(options: LoadConfigOptions, env: LoadConfigOptions["env"] & {}, cwd: string) {
  const named = options.path ?? (env.HERALD_CONFIG === "" ? undefined : env.HERALD_CONFIG);
  if (named !== undefined) {
    const absolute = isAbsolute(named) ? named : resolve(cwd, named);
    if (!existsSync(absolute)) {
      const via = options.path === undefined ? " (HERALD_CONFIG)" : "";
      throw new HeraldError("config.invalid", `Config file ${named}${via} does not exist`, {
        details: { file: named },
      });
    }
    return { name: named, absolute };
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? { name: DEFAULT_CONFIG_FILE, absolute: fallback } : undefined;
}

/**
 * Loads the configuration: defaults < herald.yaml < environment (CLI flags go on top of the
 * result). The file is options.path, else HERALD_CONFIG, else ./herald.yaml in cwd when it
 * exists, else none. `functions.module` is imported, and each endpoint checked against it and
 * the NATS settings (transportConfig.ts). Throws `config.invalid`: `herald.yaml:12:5:
 * endpoints[0].url: must be an absolute http(s) URL`; secret values never appear in messages.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<HeraldConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const chosen = chooseFile(options, env, cwd);
  let config: HeraldConfig;
  let parsed: ConfigFile = {};
  let at: ConfigLocator = { file: undefined, position: () => undefined };
  if (chosen === undefined) {
    config = fromFile({}, { source: undefined, file: undefined }, null, envFirst(env));
  } else {
    let text: string;
    try {
      text = await readFile(chosen.absolute, "utf8");
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code ?? "unreadable";
      throw new HeraldError(
        "config.invalid",
        `Config file ${chosen.name} cannot be read (${reason})`,
        {
          cause,
          details: { file: chosen.name },
        },
      );
    }
    const source = parseYaml(text, chosen.name);
    // The webhooks spec is read as written (docs/spec.md): the same output wherever it runs.
    interpolateEnv(source, env, ["webhooks", "info"]);
    const raw = source.doc.toJS({ maxAliasCount: 1000 }) ?? {};
    const result = configFileSchema.safeParse(raw);
    if (!result.success) {
      throw zodErrorToHerald(result.error, "config.invalid", {
        file: chosen.name,
        lineOf: (path) => positionOf(source, path),
      });
    }
    parsed = result.data;
    at = { file: chosen.name, position: (path) => positionOf(source, path) };
    config = fromFile(result.data, { source, file: chosen.name }, chosen.absolute, envFirst(env));
  }
  return withTransports(applyEnvOverrides(config, env), parsed, at);
}
