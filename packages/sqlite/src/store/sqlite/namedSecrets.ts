// SQLite named secrets: the named-secret half of the SQLite DeliveryStore.
import {
  namedSecretAlreadyExists,
  namedSecretNotFound,
  newNamedSecretRecord,
  rotatedNamedSecretRecord,
} from "@heraldjs/core/internal/model/namedSecretRecords.js";
import type { NamedSecretStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { namedSecretRows } from "@heraldjs/core/internal/store/sql/namedSecretRows.js";
import { call, insertSql, isConstraint, type SqliteContext } from "./deliverySql.js";

const rows = namedSecretRows(ROW_CODECS.sqlite);
const SELECT = "SELECT * FROM named_secrets WHERE tenant = ? AND name = ?";

export function sqliteNamedSecrets(ctx: SqliteContext, nowIso: () => string): NamedSecretStore {
  const { sql } = ctx;
  const select = (tenant: string, name: string) => sql(SELECT).get(tenant, name) as Row | undefined;
  return {
    createNamedSecret: (input) =>
      call(() => {
        const record = newNamedSecretRecord(input, nowIso());
        const params = rows.params(record);
        try {
          sql(insertSql("named_secrets", params)).run(params);
        } catch (error) {
          if (!isConstraint(error, "PRIMARYKEY")) throw error;
          throw namedSecretAlreadyExists(record.tenant, record.name);
        }
        return record;
      }),
    getNamedSecret: (tenant, name) =>
      call(() => {
        const row = select(tenant, name);
        return row === undefined ? undefined : rows.record(row);
      }),
    listNamedSecrets: (options = {}) =>
      call(() => {
        const found =
          options.tenant === undefined
            ? sql("SELECT * FROM named_secrets ORDER BY tenant, name").all()
            : sql("SELECT * FROM named_secrets WHERE tenant = ? ORDER BY name").all(options.tenant);
        return (found as Row[]).map(rows.record);
      }),
    updateNamedSecretVersions: (tenant, name, versions) =>
      call(() =>
        ctx.immediate(() => {
          const row = select(tenant, name);
          if (row === undefined) throw namedSecretNotFound(tenant, name);
          const next = rotatedNamedSecretRecord(rows.record(row), versions, nowIso());
          const params = rows.params(next);
          sql(
            "UPDATE named_secrets SET secrets = @secrets, updated_at = @updated_at WHERE tenant = @tenant AND name = @name",
          ).run(params);
          return next;
        }),
      ),
    deleteNamedSecret: (tenant, name) =>
      call(
        () =>
          sql("DELETE FROM named_secrets WHERE tenant = ? AND name = ?").run(tenant, name).changes >
          0,
      ),
  };
}
