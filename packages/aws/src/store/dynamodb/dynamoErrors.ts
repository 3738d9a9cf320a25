// How the DynamoDB event store reads SDK failures: a cancelled transaction carries one reason per
// item (which condition failed, or a conflict with a concurrent transaction); anything else the
// SDK throws (network, throttling past its retries, a missing table) means the store cannot
// answer now: HeraldError `store.unavailable`, the table named, the SDK error kept as cause.
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** A cancelled TransactWriteItems: one reason code per item, in item order ("None" = fine). */
export interface Cancellation {
  reasons: string[];
}

/** The reason codes of a TransactionCanceledException, or undefined for any other error. */
export function cancellation(error: unknown): Cancellation | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, CancellationReasons } = error as {
    name?: unknown;
    CancellationReasons?: { Code?: string }[];
  };
  if (name !== "TransactionCanceledException") return undefined;
  return { reasons: (CancellationReasons ?? []).map((reason) => reason.Code ?? "None") };
}

/** `store.unavailable` for `table`, saying what failed (the SDK error's name, never a secret). */
export function unavailable(table: string, error: unknown, doing: string): HeraldError {
  const name = (error as { name?: unknown } | null)?.name;
  const what = typeof name === "string" && name !== "Error" ? name : "request failed";
  return new HeraldError(
    "store.unavailable",
    `DynamoDB event store (table ${table}): ${doing} failed: ${what}`,
    { cause: error, details: { table } },
  );
}

/** HeraldErrors pass through; every other failure becomes `store.unavailable`. */
export function translate(table: string, error: unknown, doing: string): HeraldError {
  return isHeraldError(error) ? error : unavailable(table, error, doing);
}
