// The default window a signature's timestamp may be off the receive time: the signing API's
// default and the default of a source the service receives from, so the two cannot drift.

/** Seconds either way (Standard Webhooks' five minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;
