// herald.yaml and the wire schemas of the management API: loading, validation, applying.

export * from "../wire/inputs.js";
export { type ApplyConfigOptions, type ApplyConfigResult, applyConfig } from "./apply.js";
export { applyEnvOverrides, CONFIG_ENV_VARS } from "./envOverrides.js";
export {
  CONFIG_DEFAULTS,
  type ConfigFile,
  configEndpointSchema,
  configFileSchema,
  LOG_LEVELS,
  type LogLevel,
} from "./fileSchema.js";
export { DEFAULT_CONFIG_FILE, type LoadConfigOptions, loadConfig } from "./load.js";
export {
  buildServiceTransports,
  type ServiceTransportOptions,
  type ServiceTransports,
} from "./serviceTransports.js";
export type { TransportAvailability } from "./transportCheck.js";
export type { FunctionsModule, NatsSettings } from "./transportSettings.js";
export type { ConfigEndpoint, HeraldConfig } from "./types.js";
