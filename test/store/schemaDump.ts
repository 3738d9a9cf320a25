// A stable, normalised text dump of a migrated database's schema, for the schema-drift test:
// SQLite from sqlite_master, PostgreSQL from the catalogs, sorted, without the schema name.
import type { PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import type { SqliteDatabase } from "../../packages/sqlite/src/store/sqlite/database.js";

const rtrimLines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");

export function dumpSqliteSchema(db: SqliteDatabase): string {
  const objects = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name`,
    )
    .all() as { type: string; name: string; sql: string }[];
  const migrations = db
    .prepare("SELECT version, name FROM herald_migrations ORDER BY version")
    .all() as { version: number; name: string }[];
  const parts = objects.map(({ type, name, sql }) => `-- ${type} ${name}\n${rtrimLines(sql)};`);
  parts.push(
    `-- applied migrations\n${migrations.map((m) => `${String(m.version).padStart(3, "0")} ${m.name}`).join("\n")}`,
  );
  return `${parts.join("\n\n")}\n`;
}

async function rows<T>(pool: PgPool, sql: string, params: unknown[]): Promise<T[]> {
  return (await pool.query(sql, params)).rows as T[];
}

const RELKIND: Readonly<Record<string, string>> = {
  r: "table",
  p: "partitioned table",
  v: "view",
  m: "materialized view",
  S: "sequence",
  f: "foreign table",
};

/**
 * Tables (persistence, options, columns with type, nullability, default, identity and
 * generation; constraints; indexes; triggers), views, sequences, functions, enum and domain
 * types, and the applied migrations — each section sorted by name.
 */
export async function dumpPostgresSchema(pool: PgPool, schema: string): Promise<string> {
  const out: string[] = [];
  const relations = await rows<{
    oid: number;
    relname: string;
    relkind: string;
    relpersistence: string;
    reloptions: string[] | null;
  }>(
    pool,
    `SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     ORDER BY c.relname`,
    [schema],
  );
  for (const rel of relations) {
    const kind = RELKIND[rel.relkind] ?? rel.relkind;
    const flags = [
      rel.relpersistence === "u" ? "unlogged" : "",
      rel.reloptions === null ? "" : `with (${rel.reloptions.join(", ")})`,
    ].filter((flag) => flag !== "");
    out.push(`${kind} ${rel.relname}${flags.length === 0 ? "" : ` ${flags.join(" ")}`}`);
    if (rel.relkind === "S") {
      const [seq] = await rows<Record<string, string>>(
        pool,
        `SELECT data_type, start_value, increment_by, min_value, max_value, cycle
         FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2`,
        [schema, rel.relname],
      );
      out.push(
        `  ${Object.entries(seq ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      );
      continue;
    }
    const columns = await rows<{
      attname: string;
      type: string;
      attnotnull: boolean;
      def: string | null;
      attidentity: string;
      attgenerated: string;
    }>(
      pool,
      `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
              pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity, a.attgenerated
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum`,
      [rel.oid],
    );
    for (const c of columns) {
      let line = `  column ${c.attname} ${c.type}${c.attnotnull ? " not null" : ""}`;
      if (c.attidentity !== "") line += c.attidentity === "a" ? " identity always" : " identity";
      if (c.def !== null)
        line += c.attgenerated === "s" ? ` generated (${c.def})` : ` default ${c.def}`;
      out.push(line);
    }
    const constraints = await rows<{ conname: string; def: string }>(
      pool,
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = $1 ORDER BY conname`,
      [rel.oid],
    );
    for (const c of constraints) out.push(`  constraint ${c.conname} ${c.def}`);
    const indexes = await rows<{ relname: string; def: string }>(
      pool,
      `SELECT i.relname, pg_get_indexdef(x.indexrelid) AS def
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = $1 ORDER BY i.relname`,
      [rel.oid],
    );
    for (const i of indexes) out.push(`  index ${i.relname}: ${i.def}`);
    const triggers = await rows<{ tgname: string; def: string }>(
      pool,
      `SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
       WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname`,
      [rel.oid],
    );
    for (const t of triggers) out.push(`  trigger ${t.tgname}: ${t.def}`);
    if (rel.relkind === "v" || rel.relkind === "m") {
      const [view] = await rows<{ def: string }>(pool, "SELECT pg_get_viewdef($1::oid) AS def", [
        rel.oid,
      ]);
      out.push(`  as ${(view?.def ?? "").trim()}`);
    }
  }
  const functions = await rows<{ proname: string; args: string; def: string }>(
    pool,
    `SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
            pg_get_functiondef(p.oid) AS def
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
     ORDER BY p.proname, args`,
    [schema],
  );
  for (const f of functions)
    out.push(`function ${f.proname}(${f.args})\n${rtrimLines(f.def.trim())}`);
  const types = await rows<{ typname: string; kind: string; detail: string }>(
    pool,
    `SELECT t.typname,
            CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END AS kind,
            CASE t.typtype
              WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                             FROM pg_enum e WHERE e.enumtypid = t.oid)
              ELSE format_type(t.typbasetype, t.typtypmod) END AS detail
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = $1 AND t.typtype IN ('e', 'd')
     ORDER BY t.typname`,
    [schema],
  );
  for (const t of types) out.push(`${t.kind} ${t.typname}: ${t.detail}`);
  const migrations = await rows<{ version: number; name: string }>(
    pool,
    `SELECT version, name FROM "${schema}".herald_migrations ORDER BY version`,
    [],
  );
  out.push("applied migrations");
  for (const m of migrations) out.push(`  ${String(m.version).padStart(3, "0")} ${m.name}`);
  // Schema names are random per test run; the dump must not depend on them.
  return `${out.join("\n").replaceAll(`"${schema}".`, "").replaceAll(`${schema}.`, "")}\n`;
}
