// The service in-process on a SQLite file (the embedded default).

import { tempSqlitePath } from "../helpers/sqlite.js";
import { testService } from "./serviceSuite.js";

testService("SQLite", async () => {
  const file = tempSqlitePath();
  return { target: { dialect: "sqlite", path: file.path }, cleanup: async () => file.cleanup() };
});
