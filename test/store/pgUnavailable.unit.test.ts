// Which PostgreSQL driver failures count as "database unreachable" (store.unavailable) for
// every PostgreSQL store, and which are ordinary errors.
import { describe, expect, it } from "vitest";
import { isPgUnavailable } from "../../packages/postgres/src/store/postgres/unavailable.js";

describe("isPgUnavailable", () => {
  it.each([
    ["connection refused", { code: "ECONNREFUSED" }],
    ["DNS lookup failing for now", { code: "EAI_AGAIN" }],
    ["host unreachable", { code: "EHOSTUNREACH" }],
    ["SQLSTATE 08006 connection failure", { code: "08006" }],
    ["SQLSTATE 53300 too many connections", { code: "53300" }],
    ["SQLSTATE 57P01 admin shutdown", { code: "57P01" }],
    ["SQLSTATE 57014 statement timeout", { code: "57014" }],
    ["SQLSTATE 58030 I/O error", { code: "58030" }],
    ["a connection dying mid-query", new Error("Connection terminated unexpectedly")],
    ["the connect timeout", new Error("timeout exceeded when trying to connect")],
    ["a pool already ended", new Error("Cannot use a pool after calling end on the pool")],
    ["the client-side query timeout (a frozen server)", new Error("Query read timeout")],
    ["SQLSTATE 25P03 idle-in-transaction session ended", { code: "25P03" }],
  ])("%s → unavailable", (_name, error) => {
    expect(isPgUnavailable(error)).toBe(true);
  });

  it.each([
    ["unique violation", { code: "23505" }],
    ["syntax error", { code: "42601" }],
    ["invalid json", { code: "22P02", message: "invalid input syntax for type json" }],
    ["a plain error", new Error("boom")],
    ["not an object", "ECONNREFUSED"],
    ["null", null],
  ])("%s → not unavailable", (_name, error) => {
    expect(isPgUnavailable(error)).toBe(false);
  });
});
