// PostgreSQL named secrets: the named-secret half of the PostgreSQL DeliveryStore.
import {
  namedSecretAlreadyExists,
  namedSecretNotFound,
  newNamedSecretRecord,
  rotatedNamedSecretRecord,
} from "@heraldjs/core/internal/model/namedSecretRecords.js";
import type { NamedSecretStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { namedSecretRows } from "@heraldjs/core/internal/store/sql/namedSecretRows.js";
import { type PgPool, withTransaction } from "./database.js";
import { insertStatement, pgCall, pgErrorCode } from "./deliverySql.js";

const rows = namedSecretRows(ROW_CODECS.postgres);
const SELECT = "SELECT * FROM named_secrets WHERE tenant = $1 AND name = $2";

export function postgresNamedSecrets(pool: PgPool, nowIso: () => string): NamedSecretStore {
  return {
    createNamedSecret: (input) =>
      pgCall(async () => {
        const record = newNamedSecretRecord(input, nowIso());
        const { text, values } = insertStatement("named_secrets", rows.params(record));
        try {
          await pool.query(text, values);
        } catch (error) {
          if (pgErrorCode(error) !== "23505") throw error;
          throw namedSecretAlreadyExists(record.tenant, record.name);
        }
        return record;
      }),
    getNamedSecret: (tenant, name) =>
      pgCall(async () => {
        const row = (await pool.query<Row>(SELECT, [tenant, name])).rows[0];
        return row === undefined ? undefined : rows.record(row);
      }),
    listNamedSecrets: (options = {}) =>
      pgCall(async () => {
        const found =
          options.tenant === undefined
            ? await pool.query<Row>("SELECT * FROM named_secrets ORDER BY tenant, name")
            : await pool.query<Row>("SELECT * FROM named_secrets WHERE tenant = $1 ORDER BY name", [
                options.tenant,
              ]);
        return found.rows.map(rows.record);
      }),
    updateNamedSecretVersions: (tenant, name, versions) =>
      pgCall(() =>
        withTransaction(pool, async (client) => {
          const row = (await client.query<Row>(`${SELECT} FOR UPDATE`, [tenant, name])).rows[0];
          if (row === undefined) throw namedSecretNotFound(tenant, name);
          const next = rotatedNamedSecretRecord(rows.record(row), versions, nowIso());
          const params = rows.params(next);
          await client.query(
            "UPDATE named_secrets SET secrets = $3, updated_at = $4 WHERE tenant = $1 AND name = $2",
            [tenant, name, params.secrets, params.updated_at],
          );
          return next;
        }),
      ),
    deleteNamedSecret: (tenant, name) =>
      pgCall(
        async () =>
          ((
            await pool.query("DELETE FROM named_secrets WHERE tenant = $1 AND name = $2", [
              tenant,
              name,
            ])
          ).rowCount ?? 0) > 0,
      ),
  };
}
