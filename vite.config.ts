// Resolution shared by Vitest (vitest.config.ts) and vite-node (benchmarks, test child
// processes): Herald's packages, imported by their public names, run from their sources.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const packages = fileURLToPath(new URL("./packages/", import.meta.url));

export default defineConfig({
  resolve: {
    // One module per source file, as in the built packages: `@heraldjs/x/internal/a/b.js` is
    // packages/x/src/a/b.ts, `@heraldjs/core/events` its entry, `@heraldjs/x` src/index.ts.
    alias: [
      {
        find: /^@heraldjs\/([a-z]+)\/internal\/(.+)\.js$/,
        replacement: `${packages}$1/src/$2.ts`,
      },
      {
        find: /^@heraldjs\/core\/(bus|delivery|events|store)$/,
        replacement: `${packages}core/src/$1/index.ts`,
      },
      { find: /^@heraldjs\/([a-z]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
});
