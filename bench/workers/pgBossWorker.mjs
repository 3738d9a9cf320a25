// The pg-boss baseline of deliver-pg: one worker process running no-op jobs as fast as pg-boss
// allows. Settings from the environment (set by bench/deliverPg.ts):
//   BOSS_URL, BOSS_SCHEMA, BOSS_QUEUE, BOSS_BATCH (jobs per fetch), BOSS_WORKERS (work() calls
//   in this process), BOSS_POLL_S (pollingIntervalSeconds, ≥ 0.5), PGAPPNAME (the
//   connections' application_name).
// Prints `ready` once the workers are registered and `batch <epoch ms> <jobs>` for every batch
// its handler gets (the bench reads a run's first batch from it; one short line per fetch of up
// to 500 jobs). The process runs for the whole bench, run after run, until SIGTERM.
import PgBoss from "pg-boss";

const env = process.env;
const boss = new PgBoss({
  connectionString: env.BOSS_URL,
  schema: env.BOSS_SCHEMA,
  max: Number(env.BOSS_POOL ?? 10),
  // pg-boss names its connections "pgboss" unless told otherwise; the bench reads the CPU of
  // this run's backends by name (PGAPPNAME). Measurement only: no effect on the work.
  application_name: env.PGAPPNAME ?? "pgboss",
  // Only the work under test: no maintenance, cron or state monitoring in this process.
  supervise: false,
  schedule: false,
  migrate: false,
});
boss.on("error", (error) => console.error(error));
await boss.start();
const workers = Number(env.BOSS_WORKERS ?? 1);
for (let i = 0; i < workers; i++) {
  await boss.work(
    env.BOSS_QUEUE,
    {
      batchSize: Number(env.BOSS_BATCH ?? 100),
      pollingIntervalSeconds: Number(env.BOSS_POLL_S ?? 0.5),
    },
    async (jobs) => {
      console.log(`batch ${Date.now()} ${jobs.length}`);
    },
  );
}
console.log("ready");
const stop = async () => {
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
