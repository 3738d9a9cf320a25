#!/usr/bin/env node
// The `herald` executable. Kept apart from main.ts so that importing the CLI never runs it,
// and so it works through the symlinks npm makes for bins (npx, global installs).
// heapSettings.js first: ES modules run in import order, so its V8 setting precedes the rest.
import "./heapSettings.js";
import { main } from "./main.js";

main().then((code) => {
  process.exitCode = code;
});
