// The receiver's defaults, which the service states too (herald.yaml, the wire schemas).

/** Three days: longer than the retry horizon of the providers Herald receives from. */
export const DEFAULT_DEDUPE_TTL_S = 259_200;
/** The largest webhook body accepted by default (the receiver's and the service's): 2 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
