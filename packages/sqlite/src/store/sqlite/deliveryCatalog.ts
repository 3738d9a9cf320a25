// SQLite event types, sources and endpoints: the catalogue half of the SQLite DeliveryStore.

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
import { limitOf } from "./database.js";
import {
  call,
  insertSql,
  isConstraint,
  keysetClause,
  rows,
  type SqliteContext,
  type SqlParams,
  updateSql,
} from "./deliverySql.js";

/** Insert, or on a taken key update every column but the key and created_at. */
const upsertSql = (table: string, params: Row, keyColumn: string) =>
  insertSql(table, params, upsertClause(Object.keys(params), keyColumn));

/** The tenant's endpoint version, kept by the triggers of migration 013 (0 when it has none). */
export function readEndpointsVersion(ctx: SqliteContext, tenant: string): number {
  const row = ctx.sql("SELECT version FROM endpoint_versions WHERE tenant = ?").get(tenant) as
    | { version: number }
    | undefined;
  return row?.version ?? 0;
}

export function sqliteCatalog(
  ctx: SqliteContext,
  clock: Clock,
  nowIso: () => string,
): DeliveryCatalog {
  const { sql } = ctx;
  const selectEndpoint = (id: string) =>
    sql("SELECT * FROM endpoints WHERE id = ?").get(id) as Row | undefined;

  /** Read, change in TypeScript, write back: inside IMMEDIATE, so no update is lost. */
  function changeEndpoint(id: string, change: (e: EndpointRecord) => EndpointRecord) {
    return call(() =>
      ctx.immediate(() => {
        const row = typeof id === "string" ? selectEndpoint(id) : undefined;
        if (row === undefined) throw endpointNotFound(id);
        const next = change(rows.endpoint(row));
        const params = rows.endpointParams(next);
        sql(updateSql("endpoints", params, "id")).run(params);
        return next;
      }),
    );
  }

  return {
    upsertEventType: (input) =>
      call(() => {
        const params = rows.eventTypeParams(eventTypeRecord(input, nowIso()));
        return rows.eventType(sql(upsertSql("event_types", params, "name")).get(params) as Row);
      }),
    getEventType: (name) =>
      call(() => {
        const row = sql("SELECT * FROM event_types WHERE name = ?").get(name) as Row | undefined;
        return row === undefined ? undefined : rows.eventType(row);
      }),
    listEventTypes: () =>
      call(() =>
        (sql("SELECT * FROM event_types ORDER BY name").all() as Row[]).map(rows.eventType),
      ),
    deleteEventType: (name) =>
      call(() => sql("DELETE FROM event_types WHERE name = ?").run(name).changes > 0),

    upsertSource: (input) =>
      call(() => {
        const params = rows.sourceParams(sourceRecord(input, nowIso()));
        return rows.source(sql(upsertSql("sources", params, "name")).get(params) as Row);
      }),
    getSource: (name) =>
      call(() => {
        const row = sql("SELECT * FROM sources WHERE name = ?").get(name) as Row | undefined;
        return row === undefined ? undefined : rows.source(row);
      }),
    listSources: () =>
      call(() => (sql("SELECT * FROM sources ORDER BY name").all() as Row[]).map(rows.source)),
    deleteSource: (name) =>
      call(() => sql("DELETE FROM sources WHERE name = ?").run(name).changes > 0),

    createEndpoint: (input) =>
      call(() => {
        const record = newEndpointRecord(input, nowIso(), clock);
        const params = rows.endpointParams(record);
        try {
          sql(insertSql("endpoints", params)).run(params);
        } catch (error) {
          if (!isConstraint(error, "PRIMARYKEY")) throw error;
          throw endpointAlreadyExists(record.id);
        }
        return record;
      }),
    getEndpoint: (id) =>
      call(() => {
        const row = selectEndpoint(id);
        return row === undefined ? undefined : rows.endpoint(row);
      }),
    updateEndpoint: (id, patch) =>
      changeEndpoint(id, (e) => patchedEndpointRecord(e, patch, nowIso())),
    setEndpointEnabled: (id, enabled, reason) =>
      changeEndpoint(id, (e) => toggledEndpointRecord(e, enabled, reason, nowIso())),
    deleteEndpoint: (id) =>
      call(() => sql("DELETE FROM endpoints WHERE id = ?").run(id).changes > 0),
    listEndpoints: (options) =>
      call(() => {
        const query = endpointQuery(options);
        const params: SqlParams = { limit: query.limit + 1 };
        const where: string[] = ["adhoc = 0"];
        if (query.tenant !== null) {
          where.push("tenant = @tenant");
          params.tenant = query.tenant;
        }
        if (query.enabled !== null) {
          where.push("enabled = @enabled");
          params.enabled = query.enabled ? 1 : 0;
        }
        const keyset = keysetClause(query, params);
        if (keyset !== null) where.push(keyset);
        const text = pageSql("endpoints", where, query, limitOf("@limit"));
        return toPage("endpoints", (sql(text).all(params) as Row[]).map(rows.endpoint), query);
      }),
    endpointsVersion: (tenant) => call(() => readEndpointsVersion(ctx, tenant)),
  };
}
