// EventBridge's PutEvents limits, as AWS documents them: at most 10 entries per call, and an
// entry's size (and a call's total) at most 256 KB, counted as the UTF-8 bytes of Source,
// DetailType, Detail and each Resources entry, plus 14 bytes when Time is set.
// Emulators do not always enforce the size, so Herald checks it before sending.

/** Entries per PutEvents call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** Bytes per entry, and per PutEvents call. */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

export interface SizedEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: readonly string[];
  Time?: Date;
}

/** The size EventBridge counts for one entry. */
export function eventBridgeEntrySize(entry: SizedEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (text !== undefined) size += Buffer.byteLength(text, "utf8");
  }
  return size;
}

/**
 * Splits entries, in order, into PutEvents calls of at most 10 entries and 256 KB each. Every
 * entry must fit alone (check eventBridgeEntrySize first).
 */
export function putEventsChunks<T extends SizedEntry>(entries: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = eventBridgeEntrySize(entry);
    if (
      chunk.length === MAX_PUT_EVENTS_ENTRIES ||
      (chunk.length > 0 && bytes + size > MAX_PUT_EVENTS_BYTES)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
