// PostgreSQL event types, sources and endpoints: the catalogue half of the PostgreSQL
// DeliveryStore.

import {
  eventTypeRecord,
  newEndpointRecord,
  patchedEndpointRecord,
  sourceRecord,
  toggledEndpointRecord,
} from "@heraldjs/core/internal/model/catalogRecords.js";
import {
  endpointAlreadyExists,
  endpointNotFound,
} from "@heraldjs/core/internal/model/lifecycle.js";
import { endpointQuery, toPage } from "@heraldjs/core/internal/model/listQuery.js";
import type {
  DeliveryCatalog,
  EndpointRecord,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { pageSql, upsertClause } from "@heraldjs/core/internal/store/sql/sqlText.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { type PgClient, type PgPool, withTransaction } from "./database.js";
import {
  insertStatement,
  keysetClause,
  parameters,
  pgCall,
  pgErrorCode,
  rows,
  type Statement,
  updateStatement,
} from "./deliverySql.js";
import { withSightingsSql } from "./eventTypeSightings.js";

/** Insert, or on a taken key update every column but the key and created_at. */
const upsertStatement = (table: string, params: Row, keyColumn: string): Statement =>
  insertStatement(table, params, upsertClause(Object.keys(params), keyColumn));

/** The tenant's endpoint version, kept by the triggers of migration 013 (0 when it has none). */
export async function readEndpointsVersion(db: PgPool | PgClient, tenant: string): Promise<number> {
  const { rows: found } = await db.query<{ version: string }>(
    "SELECT version FROM endpoint_versions WHERE tenant = $1",
    [tenant],
  );
  return found[0] === undefined ? 0 : Number(found[0].version);
}

export function postgresCatalog(pool: PgPool, clock: Clock, nowIso: () => string): DeliveryCatalog {
  async function one(text: string, values: unknown[]): Promise<Row | undefined> {
    return (await pool.query<Row>(text, values)).rows[0];
  }

  /** Lock, change in TypeScript, write back: concurrent updates queue on the row lock. */
  function changeEndpoint(id: string, change: (e: EndpointRecord) => EndpointRecord) {
    return pgCall(() =>
      withTransaction(pool, async (client) => {
        const { rows: found } = await client.query<Row>(
          "SELECT * FROM endpoints WHERE id = $1 FOR UPDATE",
          [id],
        );
        if (found[0] === undefined) throw endpointNotFound(id);
        const next = change(rows.endpoint(found[0]));
        const update = updateStatement("endpoints", rows.endpointParams(next), "id");
        await client.query(update.text, update.values);
        return next;
      }),
    );
  }

  return {
    upsertEventType: (input) =>
      pgCall(async () => {
        const { text, values } = upsertStatement(
          "event_types",
          rows.eventTypeParams(eventTypeRecord(input, nowIso())),
          "name",
        );
        // The row as written, with the sightings it keeps.
        return rows.eventType((await one(`WITH u AS (${text}) ${withSightingsSql("u")}`, values))!);
      }),
    getEventType: (name) =>
      pgCall(async () => {
        const row = await one(`${withSightingsSql("event_types")} WHERE e.name = $1`, [name]);
        return row === undefined ? undefined : rows.eventType(row);
      }),
    listEventTypes: () =>
      pgCall(async () =>
        (
          await pool.query<Row>(`${withSightingsSql("event_types")} ORDER BY e.name COLLATE "C"`)
        ).rows.map(rows.eventType),
      ),
    deleteEventType: (name) =>
      pgCall(
        async () =>
          ((await pool.query("DELETE FROM event_types WHERE name = $1", [name])).rowCount ?? 0) > 0,
      ),

    upsertSource: (input) =>
      pgCall(async () => {
        const { text, values } = upsertStatement(
          "sources",
          rows.sourceParams(sourceRecord(input, nowIso())),
          "name",
        );
        return rows.source((await one(text, values))!);
      }),
    getSource: (name) =>
      pgCall(async () => {
        const row = await one("SELECT * FROM sources WHERE name = $1", [name]);
        return row === undefined ? undefined : rows.source(row);
      }),
    listSources: () =>
      pgCall(async () =>
        (await pool.query<Row>('SELECT * FROM sources ORDER BY name COLLATE "C"')).rows.map(
          rows.source,
        ),
      ),
    deleteSource: (name) =>
      pgCall(
        async () =>
          ((await pool.query("DELETE FROM sources WHERE name = $1", [name])).rowCount ?? 0) > 0,
      ),

    createEndpoint: (input) =>
      pgCall(async () => {
        const record = newEndpointRecord(input, nowIso(), clock);
        const { text, values } = insertStatement("endpoints", rows.endpointParams(record));
        try {
          await pool.query(text, values);
        } catch (error) {
          if (pgErrorCode(error) !== "23505") throw error;
          throw endpointAlreadyExists(record.id);
        }
        return record;
      }),
    getEndpoint: (id) =>
      pgCall(async () => {
        const row = await one("SELECT * FROM endpoints WHERE id = $1", [id]);
        return row === undefined ? undefined : rows.endpoint(row);
      }),
    updateEndpoint: (id, patch) =>
      changeEndpoint(id, (e) => patchedEndpointRecord(e, patch, nowIso())),
    setEndpointEnabled: (id, enabled, reason) =>
      changeEndpoint(id, (e) => toggledEndpointRecord(e, enabled, reason, nowIso())),
    deleteEndpoint: (id) =>
      pgCall(
        async () =>
          ((await pool.query("DELETE FROM endpoints WHERE id = $1", [id])).rowCount ?? 0) > 0,
      ),
    listEndpoints: (options) =>
      pgCall(async () => {
        const query = endpointQuery(options);
        const { p, values } = parameters();
        const where: string[] = ["NOT adhoc"];
        if (query.tenant !== null) where.push(`tenant = ${p(query.tenant)}`);
        if (query.enabled !== null) where.push(`enabled = ${p(query.enabled)}`);
        const keyset = keysetClause(query, p);
        if (keyset !== null) where.push(keyset);
        const text = pageSql("endpoints", where, query, p(query.limit + 1));
        const found = (await pool.query<Row>(text, values)).rows.map(rows.endpoint);
        return toPage("endpoints", found, query);
      }),
    endpointsVersion: (tenant) => pgCall(() => readEndpointsVersion(pool, tenant)),
  };
}
