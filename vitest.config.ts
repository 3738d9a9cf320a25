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
