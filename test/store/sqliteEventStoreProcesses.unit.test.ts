// Two processes, each with its own connection, appending to one stream in one SQLite file:
// the IMMEDIATE transaction serialises them, so versions have no gaps and no duplicates and
// every conflict reports a real, newer head.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqliteEventStore } from "../../packages/sqlite/src/store/sqlite/eventStore.js";
import { uniqueStream } from "../contracts/eventStore.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const viteNode = fileURLToPath(
  new URL("../../node_modules/vite-node/vite-node.mjs", import.meta.url),
);
const writerScript = fileURLToPath(new URL("./sqliteEventStoreWriter.ts", import.meta.url));
const PER_WRITER = 150;

interface WriterReport {
  ids: string[];
  versions: number[];
  conflicts: number;
}

const stderrOf = new WeakMap<ChildProcess, string[]>();

/** Resolves once the child said "ready" (it does after loading its modules). */
function ready(child: ChildProcess): Promise<void> {
  const said: string[] = [];
  stderrOf.set(child, said);
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (chunk) => {
      said.push(String(chunk));
      if (said.join("").includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`writer exited (${code}): ${said.join("")}`)));
  });
}

/** Says go, and resolves to the child's summary once it exits successfully. */
async function report(child: ChildProcess): Promise<WriterReport> {
  let stdout = "";
  child.stdout!.on("data", (chunk) => {
    stdout += String(chunk);
  });
  const exited = once(child, "exit") as Promise<[number | null]>;
  child.stdin!.end("go\n");
  const [code] = await exited;
  if (code !== 0) {
    throw new Error(`writer exited with ${code}: ${stderrOf.get(child)?.join("")}`);
  }
  return JSON.parse(stdout) as WriterReport;
}

describe("sqlite EventStore across processes", () => {
  let sqlite: MigratedSqlite;

  beforeAll(() => {
    sqlite = migratedSqlite("shared.db");
  });

  afterAll(() => sqlite.cleanup());

  it("two writer processes on one file: no gaps, no duplicates, real heads in conflicts", async () => {
    const stream = uniqueStream();
    const writers = ["writer-a", "writer-b"].map((name) =>
      spawn(process.execPath, [
        viteNode,
        writerScript,
        sqlite.path,
        stream,
        String(PER_WRITER),
        name,
      ]),
    );
    await Promise.all(writers.map(ready));
    const reports = await Promise.all(writers.map(report));
    const loaded = await createSqliteEventStore(sqlite.db).load(stream);
    expect(loaded.map((e) => e.version)).toEqual(
      Array.from({ length: 2 * PER_WRITER }, (_, i) => i + 1),
    );
    const byVersion = new Map(loaded.map((e) => [e.version, e.envelope.id]));
    for (const report of reports) {
      expect(report.ids).toHaveLength(PER_WRITER);
      report.ids.forEach((id, i) => {
        expect(byVersion.get(report.versions[i]!)).toBe(id);
      });
    }
    // The writers did overlap (otherwise this test proves nothing about serialisation).
    expect(reports[0]!.conflicts + reports[1]!.conflicts).toBeGreaterThan(0);
  }, 60_000);
});
