// Endpoint filters through the service on PostgreSQL (a schema of its own).
import { describe } from "vitest";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testFilters } from "./filtersSuite.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1)
// serviceAvailable fails instead.
describe.skipIf(!available)("PostgreSQL", () => {
  testFilters("PostgreSQL", async () => {
    const schema = await createTestSchema("filters_service");
    return {
      target: { dialect: "postgres", url: schema.url, schema: schema.schema },
      cleanup: () => schema.drop(),
    };
  });
});
