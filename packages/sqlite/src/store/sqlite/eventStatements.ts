// The SQLite event store's statements, prepared once per database connection.
import type Database from "better-sqlite3";
import { limitOf, type SqliteDatabase } from "./database.js";

export type EventStatements = Record<
  | "findIds"
  | "head"
  | "upsertStream"
  | "insertEvent"
  | "loadRange"
  | "readAll"
  | "readOutbox"
  | "getCheckpoint"
  | "saveCheckpoint",
  Database.Statement
>;

const EVENT_COLUMNS = `position, stream, version, event_id, type, source, occurred_at,
  correlation_id, causation_id, payload, metadata, committed_at`;

export function prepareEventStatements(db: SqliteDatabase): EventStatements {
  return {
    // The batch's ids travel as one JSON array, so any batch size is one statement.
    findIds: db.prepare(
      `SELECT event_id AS eventId, stream, version FROM events
       WHERE event_id IN (SELECT value FROM json_each(?))`,
    ),
    head: db.prepare("SELECT version FROM streams WHERE name = ?"),
    upsertStream: db.prepare(
      `INSERT INTO streams (name, type, id, version) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO events (stream, version, event_id, type, source, occurred_at, correlation_id,
         causation_id, payload, metadata, published, committed_at)
       VALUES (@stream, @version, @event_id, @type, @source, @occurred_at, @correlation_id,
         @causation_id, @payload, @metadata, @published, @committed_at)
       RETURNING position`,
    ),
    loadRange: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND version >= ?
       ORDER BY version LIMIT ${limitOf("?")}`,
    ),
    readAll: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ${limitOf("?")}`,
    ),
    readOutbox: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND published = 1
       ORDER BY position LIMIT ${limitOf("?")}`,
    ),
    getCheckpoint: db.prepare("SELECT checkpoint FROM checkpoints WHERE name = ?"),
    saveCheckpoint: db.prepare(
      `INSERT INTO checkpoints (name, checkpoint, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint,
         updated_at = excluded.updated_at`,
    ),
  };
}
