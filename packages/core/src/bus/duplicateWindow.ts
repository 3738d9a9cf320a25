// The default dedupe window for message ids, shared by the memory bus and JetStream streams.

/**
 * 2 hours (JetStream's own default is 2 minutes). The window must outlast the longest gap
 * between a publish and its re-send — a forwarder that crashed after publishing and before
 * checkpointing re-sends on restart — so it is sized for a restart after an incident, not a
 * reconnect. Memory cost on the server grows with ids per window (one entry per message).
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;
