// The service's input rules on PostgreSQL (a schema of its own); see inputRulesSuite.ts.
import { describe } from "vitest";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testInputRules } from "./inputRulesSuite.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("PostgreSQL", () => {
  testInputRules("PostgreSQL", async () => {
    const schema = await createTestSchema("input_rules");
    return {
      target: { dialect: "postgres", url: schema.url, schema: schema.schema },
      cleanup: () => schema.drop(),
    };
  });
});
