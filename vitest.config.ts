import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import { SETTLED_READS } from "./test/settledReads.js";
import viteConfig from "./vite.config.js";

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      testTimeout: 20_000,
      hookTimeout: 30_000,
      pool: "forks",
      // Two test files at a time, whatever the machine: most files wait on services, child
      // processes and sockets more than they compute. On 2 cores Vitest's default (cores − 1)
      // runs one file at a time; more than two at once is not what the suite is checked with.
      maxWorkers: 2,
      minWorkers: 1,
      // The pinned AWS SDK announces that its releases after January 2027 need Node 22; Herald
      // pins the version, so the notice says nothing about these tests.
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      // Groups run one after the other (sequence.groupOrder); a group's files side by side.
      // Each file whose PostgreSQL reads wait for every older write in the cluster
      // (test/settledReads.ts) is a group of its own, after all the others.
      projects: [
        {
          extends: true,
          test: {
            name: "side-by-side",
            include: ["test/**/*.test.ts"],
            exclude: [...configDefaults.exclude, ...SETTLED_READS],
            sequence: { groupOrder: 0 },
          },
        },
        ...SETTLED_READS.map((file, index) => ({
          extends: true as const,
          test: {
            name: `settled-reads-${index + 1}`,
            include: [file],
            sequence: { groupOrder: index + 1 },
          },
        })),
      ],
      coverage: {
        provider: "v8",
        include: ["packages/*/src/**/*.ts"],
        exclude: ["packages/*/src/**/*.d.ts"],
        reporter: ["text-summary", "json-summary"],
        thresholds: { lines: 80 },
      },
    },
  }),
);
