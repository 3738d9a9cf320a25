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
