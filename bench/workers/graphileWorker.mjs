// The graphile-worker baseline of deliver-pg: one worker process running no-op jobs (as the
// pg-boss baseline does) with the settings of graphile-worker's performance page: local queue,
// batched job completion, LISTEN/NOTIFY (always on). Settings from the environment (set by
// bench/deliverPg.ts):
//   GRAPHILE_URL (its own database), GRAPHILE_SCHEMA, GRAPHILE_TASK (the one task this process
//   runs), GRAPHILE_CONCURRENCY (concurrentJobs), GRAPHILE_POOL (maxPoolSize),
//   GRAPHILE_LOCAL_QUEUE (localQueue.size), GRAPHILE_BATCH_DELAY_MS (completeJobBatchDelay and
//   failJobBatchDelay), GRAPHILE_POLL_MS (pollInterval), PGAPPNAME (the connections'
//   application_name, read by node-postgres).
// Prints `ready` once the runner is up and `first <epoch ms> <run>` for the first job of each
// run it sees (the bench reads a run's first job from it; the job's payload names its run). The
// process runs for the whole bench, run after run, until SIGTERM.
import { Logger, run } from "graphile-worker";

const env = process.env;
// Warnings and errors only: graphile-worker logs every completed job at `info`, and Herald's
// worker runs at `warn` in the same bench.
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(message);
});
let lastRun = -1;
const batchDelay = Number(env.GRAPHILE_BATCH_DELAY_MS ?? 0);
const runner = await run({
  connectionString: env.GRAPHILE_URL,
  schema: env.GRAPHILE_SCHEMA,
  concurrency: Number(env.GRAPHILE_CONCURRENCY ?? 24),
  maxPoolSize: Number(env.GRAPHILE_POOL ?? 25),
  pollInterval: Number(env.GRAPHILE_POLL_MS ?? 2000),
  noHandleSignals: true,
  logger,
  taskList: {
    [env.GRAPHILE_TASK]: async (payload) => {
      if (payload.run !== lastRun) {
        lastRun = payload.run;
        console.log(`first ${Date.now()} ${payload.run}`);
      }
    },
  },
  preset: {
    worker: {
      localQueue: { size: Number(env.GRAPHILE_LOCAL_QUEUE ?? 500) },
      completeJobBatchDelay: batchDelay,
      failJobBatchDelay: batchDelay,
    },
  },
});
console.log("ready");
const stop = async () => {
  await runner.stop();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
