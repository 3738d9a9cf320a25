// The event store's records: what a writer appends and what a reader gets back.
import type { EnvelopeInput, EventEnvelope } from "../core/envelope.js";

/**
 * The version a writer expects a stream to be at: `0` the stream must not exist yet, `N` its
 * head must be exactly N, `"any"` no check (still never two events at one version).
 */
export type ExpectedVersion = number | "any";

/**
 * An event to append: an envelope without its aggregate. The store derives `aggregate`
 * (`type` and `id` from the stream name `type/id`, `version` from the stream head).
 */
export type EventToAppend = Omit<EnvelopeInput, "aggregate">;

export interface StoredEvent {
  /** `type/id`, e.g. `order/123`. */
  stream: string;
  /** 1..N within the stream, no gaps. */
  version: number;
  /**
   * Cursor in commit order across all streams. Opaque: compare only by passing it back as
   * `after`; its form differs by backend.
   */
  checkpoint: string;
  /** The full envelope, `aggregate` filled in. */
  envelope: EventEnvelope;
  /** When the transaction that stored it committed (approximately; ISO 8601). */
  committedAt: string;
}

export interface AppendOptions {
  /** Default `"any"`. */
  expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  stream: string;
  /** Version of the first appended event. */
  fromVersion: number;
  /** The stream head after the append. */
  toVersion: number;
  events: StoredEvent[];
  /**
   * True when every event id of the batch was already stored in this stream, in this order:
   * nothing was written and the original result is returned.
   */
  idempotent: boolean;
}

export interface ReadResult {
  events: StoredEvent[];
  /** Pass as `after` to read on; undefined when nothing has been read yet. */
  checkpoint: string | undefined;
}
