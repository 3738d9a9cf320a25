// The SQLite write probe behind readiness (DeliveryStore.probeWrite): the filesystem holding the
// database must take a headroom write next to the file, then the database a committed one-row
// write (write_probe, migration 005).
//
// Why the headroom file: in WAL mode a one-row commit appends a frame or two, which fit in WAL
// pages the file already has after a checkpoint, so on a full disk it passes while ingestion,
// which needs new pages, fails with SQLITE_FULL. The file needs new blocks. It is written without
// fsync and removed at once: filesystems that allocate on write (ext4 and XFS with delayed
// allocation, tmpfs) refuse it with ENOSPC when full, and its data never has to reach the disk.
// Its bytes are random so that a compressing filesystem cannot store them in less room.
import { randomBytes } from "node:crypto";
import { type FileHandle, open, unlink } from "node:fs/promises";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { call, type SqliteContext } from "./deliverySql.js";

export interface SqliteWriteProbeSettings {
  /** Bytes the filesystem must take next to the database file; 0 skips the check. */
  headroomBytes: number;
  /**
   * Longest wait for the write lock. The probe's commit runs on the event loop, as every write
   * on this connection does, and SQLite's busy handler sleeps there: keep it short.
   */
  busyTimeoutMs: number;
}

export const SQLITE_WRITE_PROBE_DEFAULTS: SqliteWriteProbeSettings = {
  headroomBytes: 1024 * 1024,
  busyTimeoutMs: 250,
};

const UPSERT =
  "INSERT INTO write_probe (id, probed_at) VALUES (1, @at) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";

let content: Buffer | undefined;

function headroomContent(bytes: number): Buffer {
  if (content === undefined || content.length < bytes) content = randomBytes(bytes);
  return content.subarray(0, bytes);
}

function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Writes `bytes` to `file` and removes it; store.unavailable (without the path) when refused. */
async function writeHeadroom(file: string, bytes: number): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "w");
    await handle.writeFile(headroomContent(bytes));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new HeraldError(
      "store.unavailable",
      `The filesystem of the SQLite database does not take a ${describeBytes(bytes)} write next to it (${typeof code === "string" ? code : "error"})`,
      { cause: error },
    );
  } finally {
    await handle?.close().catch(() => {});
    await unlink(file).catch(() => {});
  }
}

export function sqliteWriteProbe(
  ctx: SqliteContext,
  clock: Clock,
  settings: SqliteWriteProbeSettings,
): () => Promise<void> {
  const { db } = ctx;
  // A file next to the database's (same directory, so the same filesystem as its WAL).
  const headroomFile = db.memory || db.name === "" ? null : `${db.name}-probe`;
  const busyTimeoutMs = Math.max(0, Math.floor(settings.busyTimeoutMs));
  return async () => {
    if (headroomFile !== null && settings.headroomBytes > 0) {
      await writeHeadroom(headroomFile, settings.headroomBytes);
    }
    await call(() => {
      const previous = db.pragma("busy_timeout", { simple: true }) as number;
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      try {
        ctx.immediate(() => ctx.sql(UPSERT).run({ at: clock.now() }));
      } finally {
        db.pragma(`busy_timeout = ${previous}`);
      }
    });
  };
}
