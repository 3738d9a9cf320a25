// Every test file that reads PostgreSQL streams or the PostgreSQL event store is in
// SETTLED_READS, so that it runs on its own after the others (test/settledReads.ts).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTLED_READS } from "../settledReads.js";

const root = join(import.meta.dirname, "../..");

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(root, path)] : [];
  });
}

/** Reads below the cluster's oldest open write: the event store, or a stream suite on PostgreSQL. */
function readsSettledRows(source: string): boolean {
  const imports = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm)].map(
    (m) => m[1]!,
  );
  const eventStore = imports.some((i) => i.endsWith("/postgres/eventStore.js"));
  const appendBench = imports.some((i) => i.endsWith("bench/append.js"));
  const streamSuite = imports.some((i) => /stream(Store|Routes)Suite\.js$/.test(i));
  const postgres = imports.some((i) => i.includes("/postgres/"));
  return eventStore || appendBench || (streamSuite && postgres);
}

describe("test files with settled PostgreSQL reads", () => {
  it("are all listed, and every listed file exists", () => {
    const reading = testFiles(join(root, "test")).filter((file) =>
      readsSettledRows(readFileSync(join(root, file), "utf8")),
    );
    expect(reading.length).toBeGreaterThan(0);
    expect([...SETTLED_READS].sort()).toEqual(expect.arrayContaining(reading.sort()));
    for (const file of SETTLED_READS) expect(existsSync(join(root, file)), file).toBe(true);
  });

  it("are told apart by their imports", () => {
    expect(
      readsSettledRows(
        'import { x } from "../../packages/postgres/src/store/postgres/eventStore.js";',
      ),
    ).toBe(true);
    expect(
      readsSettledRows(
        'import { a } from "../../packages/postgres/src/store/postgres/deliveryStore.js";\nimport { s } from "./streamStoreSuite.js";',
      ),
    ).toBe(true);
    expect(readsSettledRows('import { s } from "./streamStoreSuite.js";')).toBe(false);
    expect(readsSettledRows('  "import { x } from \\"./postgres/eventStore.js\\""')).toBe(false);
    expect(
      readsSettledRows('import { a } from "../../packages/sqlite/src/store/sqlite/eventStore.js";'),
    ).toBe(false);
  });
});
