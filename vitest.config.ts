import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples and tests import the package by its public name; run them against the sources.
    alias: [
      { find: /^herald\/webhooks$/, replacement: src("webhooks.ts") },
      { find: /^herald\/core$/, replacement: src("core/index.ts") },
      { find: /^herald\/events$/, replacement: src("events/index.ts") },
      { find: /^herald\/bus$/, replacement: src("bus/index.ts") },
      { find: /^herald\/delivery$/, replacement: src("delivery/index.ts") },
      { find: /^herald\/store$/, replacement: src("store/index.ts") },
      { find: /^herald$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/**/*.d.ts"],
      reporter: ["text-summary", "json-summary"],
      thresholds: { lines: 80 },
    },
  },
});
