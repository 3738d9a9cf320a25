// Prints the closing line of a test run in the plain "N passed, N failed, N skipped" form,
// read from vitest's JSON report, so any reader of the log sees the totals the same way.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync("test-results/vitest.json", "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
);
