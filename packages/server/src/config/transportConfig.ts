// loadConfig's part for the transports: the `nats:` section as settings, the `functions:` module
// loaded, and the endpoints of the file checked against both, so a `transport: nats` endpoint
// without NATS or a function that does not exist fails at start with file:line:column.

import { dirname, isAbsolute, resolve } from "node:path";
import { DEFAULT_ENDPOINT_TRANSPORT } from "@heraldjs/core/internal/model/constants.js";
import { configError, type positionOf } from "@heraldjs/spec/internal/config/yamlSource.js";
import type { IssuePath } from "@heraldjs/spec/internal/wire/zodIssues.js";
import type { ConfigFile } from "./fileSchema.js";
import { FunctionsModuleError, loadFunctionsModule, serviceFunctions } from "./functionsModule.js";
import { endpointTransportError, type TransportAvailability } from "./transportCheck.js";
import {
  DEFAULT_NATS_STREAM,
  DEFAULT_NATS_SUBJECTS,
  type FunctionsModule,
  type NatsSettings,
} from "./transportSettings.js";
import type { HeraldConfig } from "./types.js";

/** Where a key path of the file is, and the file's name as the user wrote it. */
export interface ConfigLocator {
  file: string | undefined;
  position(path: IssuePath): ReturnType<typeof positionOf>;
}

/** Relative paths in the file start at the file's folder. */
function fromConfigDir(file: string | null, path: string): string {
  return isAbsolute(path) ? path : resolve(file === null ? process.cwd() : dirname(file), path);
}

/** NATS settings of `servers` with every other setting at its default. */
export function natsDefaults(servers: string[]): NatsSettings {
  return {
    servers,
    credsFile: null,
    user: null,
    password: null,
    token: null,
    stream: DEFAULT_NATS_STREAM,
    subjects: [...DEFAULT_NATS_SUBJECTS],
  };
}

/** The `nats:` section as settings (defaults applied); null when the file has none. */
export function natsFromFile(
  section: ConfigFile["nats"],
  file: string | null,
): NatsSettings | null {
  if (section === undefined || section === null) return null;
  const { servers } = section;
  return {
    servers: servers === undefined ? [] : typeof servers === "string" ? [servers] : [...servers],
    credsFile: section.creds_file === undefined ? null : fromConfigDir(file, section.creds_file),
    user: section.user ?? null,
    password: section.password ?? null,
    token: section.token ?? null,
    stream: section.stream ?? DEFAULT_NATS_STREAM,
    subjects: [...(section.subjects ?? DEFAULT_NATS_SUBJECTS)],
  };
}

/** What is wrong with NATS settings after the environment: [key, problem], or undefined. */
function natsProblem(nats: NatsSettings): [string, string] | undefined {
  if (nats.servers.length === 0) return ["servers", "is required (or set HERALD_NATS_URL)"];
  if (nats.password !== null && nats.user === null) return ["password", "needs user"];
  if (nats.token !== null && nats.user !== null) {
    return ["token", "cannot be combined with user and password"];
  }
  return undefined;
}

/** The functions module of the file, loaded; null when the file names none. */
async function functionsFromFile(
  section: ConfigFile["functions"],
  file: string | null,
  at: ConfigLocator,
): Promise<FunctionsModule | null> {
  if (section === undefined || section === null) return null;
  const module = fromConfigDir(file, section.module);
  try {
    return { module, functions: await loadFunctionsModule(module) };
  } catch (error) {
    if (!(error instanceof FunctionsModuleError)) throw error;
    const path = ["functions", "module"];
    throw configError(at.file, at.position(path), path, error.message, error);
  }
}

/**
 * The config with its functions module loaded, after checking the NATS settings (as the
 * environment left them) and that every endpoint of the file names a transport and a function
 * this process has (and an SQS queue on the configured AWS origin). Throws `config.invalid` at the key's file:line:column.
 */
export async function withTransports(
  config: HeraldConfig,
  parsed: Pick<ConfigFile, "functions">,
  at: ConfigLocator,
): Promise<HeraldConfig> {
  if (config.nats !== null) {
    const problem = natsProblem(config.nats);
    if (problem !== undefined) {
      const path = ["nats", problem[0]];
      throw configError(at.file, at.position(path) ?? at.position(["nats"]), path, problem[1]);
    }
  }
  const functions = await functionsFromFile(parsed.functions, config.file, at);
  const available: TransportAvailability = {
    nats: config.nats === null ? null : { stream: config.nats.stream, subjects: null },
    functions: new Set(serviceFunctions(functions?.functions ?? null).keys()),
    awsEndpoint: config.aws.endpoint,
  };
  checkConfigEndpoints(config.endpoints, available, at);
  return { ...config, functions };
}

/**
 * Throws `config.invalid` at the first endpoint of the file that names a transport or function
 * `available` lacks (its `transport` or `url` key).
 */
export function checkConfigEndpoints(
  endpoints: HeraldConfig["endpoints"],
  available: TransportAvailability,
  at: ConfigLocator,
): void {
  endpoints.forEach(({ input }, index) => {
    const transport = input.transport ?? DEFAULT_ENDPOINT_TRANSPORT;
    const error = endpointTransportError(available, transport, input.target);
    if (error === undefined) return;
    const key = error.details?.field === "transport" ? "transport" : "url";
    const path = ["endpoints", index, key];
    const problem = error.message.replace(/^(url|transport): /, "");
    const position = at.position(path) ?? at.position(["endpoints", index]);
    throw configError(at.file, position, path, problem, error);
  });
}
