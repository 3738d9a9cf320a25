import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config.js";

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: 20_000,
      hookTimeout: 30_000,
      pool: "forks",
      // Two test files at a time, whatever the machine: most files wait on services, child
      // processes and sockets more than they compute. On 2 cores Vitest's default (cores − 1)
      // ran one file at a time, and the suite took 16 min instead of 10; more than two at once is
      // not what the suite is checked with.
      maxWorkers: 2,
      minWorkers: 1,
      // The pinned AWS SDK announces that its releases after January 2027 need Node 22; Herald
      // pins the version, so the notice says nothing about these tests.
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
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
