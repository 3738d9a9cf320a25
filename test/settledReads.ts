// Test files that read what PostgreSQL only shows once every older write transaction of the
// cluster has ended: stream and event-store reads below `pg_snapshot_xmin` (delayed, never
// skipped). A write in another test file running at the same time holds such a read back, so a
// test that reads right after it writes could see nothing. vitest.config.ts runs these files on
// their own, after all the others; test/architecture/settledReads.unit.test.ts keeps the list
// complete.
export const SETTLED_READS: readonly string[] = [
  "test/bench/append.int.test.ts",
  "test/events/forwarderPostgres.int.test.ts",
  "test/store/postgresEventStore.int.test.ts",
  "test/store/postgresOrdering.int.test.ts",
  "test/streams/streamRoutes.int.test.ts",
  "test/streams/streamStore.int.test.ts",
];
