// The service's input rules on a SQLite file (the embedded default); see inputRulesSuite.ts.
import { tempSqlitePath } from "../helpers/sqlite.js";
import { testInputRules } from "./inputRulesSuite.js";

testInputRules("SQLite", async () => {
  const file = tempSqlitePath();
  return { target: { dialect: "sqlite", path: file.path }, cleanup: async () => file.cleanup() };
});
