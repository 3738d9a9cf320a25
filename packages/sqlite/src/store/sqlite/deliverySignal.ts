// Wake-ups for workers on SQLite, which has no LISTEN/NOTIFY: a write that makes deliveries due
// now (new messages, a replay, a recovered endpoint) signals once it committed.
// - In the same process (`herald serve` with its embedded worker) listeners of the same database
//   file are called at once.
// - Across processes (`herald serve --no-worker` beside `herald worker`), the writer sets the
//   times of an empty file next to the database, `<database>-wake`, and workers watch it
//   (inotify on Linux, FSEvents/kqueue elsewhere): one system call per committed batch, no
//   data. A lost signal costs at most the worker's poll interval, which stays the fallback.
// In-memory databases are process-local, so their listeners are kept per connection.
import { closeSync, type FSWatcher, openSync, utimesSync, watch, writeFileSync } from "node:fs";
import type { SqliteDatabase } from "./database.js";

type Listener = () => void;

export interface DeliverySignal {
  /** Called after a commit that made deliveries due now. */
  signal(): void;
  /** Calls `listener` on every signal, from this process or (file databases) another one. */
  listen(listener: Listener): Promise<() => Promise<void>>;
}

/** Listeners in this process, per database file (or per in-memory connection). */
const fileListeners = new Map<string, Set<Listener>>();
const memoryListeners = new WeakMap<SqliteDatabase, Set<Listener>>();

export function wakeFilePath(databaseFile: string): string {
  return `${databaseFile}-wake`;
}

/** The live set of this database's listeners (created on first use, dropped when empty). */
function listenersOf(db: SqliteDatabase): Set<Listener> {
  const existing = db.memory ? memoryListeners.get(db) : fileListeners.get(db.name);
  if (existing !== undefined) return existing;
  const created = new Set<Listener>();
  if (db.memory) memoryListeners.set(db, created);
  else fileListeners.set(db.name, created);
  return created;
}

function removeListener(db: SqliteDatabase, listener: Listener): void {
  const set = listenersOf(db);
  set.delete(listener);
  if (set.size === 0 && !db.memory) fileListeners.delete(db.name);
}

function callAll(db: SqliteDatabase): void {
  const listeners = db.memory ? memoryListeners.get(db) : fileListeners.get(db.name);
  if (listeners === undefined) return;
  for (const listener of listeners) {
    try {
      listener();
    } catch {
      // A listener's failure is its own; the others still wake.
    }
  }
}

export function createDeliverySignal(db: SqliteDatabase): DeliverySignal {
  const wakeFile = db.memory || db.readonly ? null : wakeFilePath(db.name);
  /** False once the wake file cannot be touched (other processes then poll). */
  let touchable = wakeFile !== null;

  function touchWakeFile(): void {
    if (!touchable || wakeFile === null) return;
    const now = new Date();
    try {
      // One system call, no descriptor kept: a new time is a change to every watcher.
      utimesSync(wakeFile, now, now);
    } catch (error) {
      try {
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
        writeFileSync(wakeFile, ""); // removed meanwhile: recreated for the next listener
      } catch {
        // A read-only directory or a full disk: separate workers fall back to polling.
        touchable = false;
      }
    }
  }

  return {
    signal() {
      callAll(db);
      touchWakeFile();
    },
    async listen(listener) {
      listenersOf(db).add(listener);
      let watcher: FSWatcher | null = null;
      if (wakeFile !== null) {
        try {
          // fs.watch needs the file to exist; opening it for append creates it untouched.
          closeSync(openSync(wakeFile, "a"));
          watcher = watch(wakeFile, { persistent: false }, () => listener());
          watcher.on("error", () => {
            watcher?.close();
            watcher = null;
          });
        } catch {
          watcher = null; // other processes' signals are then picked up by polling
        }
      }
      return async () => {
        removeListener(db, listener);
        watcher?.close();
        watcher = null;
      };
    },
  };
}
