// Endpoint filters through the service on a SQLite file.
import { tempSqlitePath } from "../helpers/sqlite.js";
import { testFilters } from "./filtersSuite.js";

testFilters("SQLite", async () => {
  const file = tempSqlitePath();
  return { target: { dialect: "sqlite", path: file.path }, cleanup: async () => file.cleanup() };
});
