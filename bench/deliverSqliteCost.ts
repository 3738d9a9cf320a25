// The SQLite storage of a delivery, statement by statement (bench/deliverSqliteStatements.ts):
//
//   npx vite-node bench/deliverSqliteCost.ts -- [--deliveries N] [--endpoints N] [--drop index,…]
//
// The figures of docs/benchmarks.md#sqlite-storage-per-delivery-statement-by-statement come from it.

import { optionValue, scriptArgs } from "./cliArgs.js";
import { measureDeliveryStatements } from "./deliverSqliteStatements.js";

const args = scriptArgs();
const option = (name: string) => optionValue(args, name);
const deliveries = Number(option("deliveries") ?? 40_000);
const endpoints = Number(option("endpoints") ?? 1);
const drop = (option("drop") ?? "").split(",").filter((name) => name !== "");
if (
  !Number.isInteger(deliveries) ||
  deliveries < 1 ||
  !Number.isInteger(endpoints) ||
  endpoints < 1
) {
  console.error(
    "usage: npx vite-node bench/deliverSqliteCost.ts -- [--deliveries N] [--endpoints N] [--drop index,…]",
  );
  process.exit(2);
}

const result = await measureDeliveryStatements({ deliveries, drop, endpoints });
console.log(
  `${result.deliveries} deliveries to ${result.endpoints} endpoint(s) claimed and completed` +
    (drop.length === 0 ? "" : ` without ${drop.join(", ")}`),
);
for (const { statement, usPerDelivery, perDelivery } of result.statements) {
  console.log(
    `  ${usPerDelivery.toFixed(2).padStart(6)} µs  ×${perDelivery.toFixed(3).padEnd(6)} ${statement}`,
  );
}
console.log(`  ${result.statementsUs.toFixed(2).padStart(6)} µs  all statements`);
console.log(`  ${result.storeCallsUs.toFixed(2).padStart(6)} µs  the store calls (wall)`);
console.log(`  ${result.cpuUs.toFixed(2).padStart(6)} µs  this process's CPU`);
