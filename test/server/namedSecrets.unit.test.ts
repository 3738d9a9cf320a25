// Named secrets and ad-hoc dispatch through the service on a SQLite file.
import { tempSqlitePath } from "../helpers/sqlite.js";
import { testNamedSecrets } from "./namedSecretsSuite.js";

testNamedSecrets("SQLite", async () => {
  const file = tempSqlitePath();
  return { target: { dialect: "sqlite", path: file.path }, cleanup: async () => file.cleanup() };
});
