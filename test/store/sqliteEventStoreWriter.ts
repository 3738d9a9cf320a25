// Child process of sqliteEventStoreProcesses.unit.test.ts: one writer with its own connection
// to the shared file, appending to one stream with expectedVersion and retrying from the
// version each conflict reports. Prints a JSON summary on stdout.
// Usage: vite-node sqliteEventStoreWriter.ts <file> <stream> <count> <name>
import { randomUUID } from "node:crypto";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteEventStore } from "../../packages/sqlite/src/store/sqlite/eventStore.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

const [path, stream, countText, name] = process.argv.slice(2) as [string, string, string, string];
const db = openSqlite(path, { busyTimeoutMs: 10_000 });
const store = createSqliteEventStore(db);
const ids: string[] = [];
const versions: number[] = [];
let conflicts = 0;
let expected = 0;

// Both writers start together, once both are past their slow start-up: say ready, wait for go.
process.stderr.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();

while (ids.length < Number(countText)) {
  const id = randomUUID();
  try {
    const result = await store.append(
      stream,
      [{ id, type: "order.placed.v1", source: name, payload: { n: ids.length } }],
      { expectedVersion: expected },
    );
    ids.push(id);
    versions.push(result.fromVersion);
    expected = result.toVersion;
  } catch (error) {
    if (!isHeraldError(error, "stream.version_conflict")) throw error;
    const actual = error.details?.actual as number;
    if (actual <= expected) throw new Error(`conflict reported head ${actual} <= ${expected}`);
    conflicts++;
    expected = actual;
  }
}
db.close();
process.stdout.write(JSON.stringify({ ids, versions, conflicts }));
