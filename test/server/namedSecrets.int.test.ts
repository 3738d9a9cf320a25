// Named secrets and ad-hoc dispatch through the service on PostgreSQL (a schema of its own).
import { describe } from "vitest";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testNamedSecrets } from "./namedSecretsSuite.js";

const available = await serviceAvailable("postgres");

// Skips only when PostgreSQL is unreachable; under CI=true (or HERALD_REQUIRE_SERVICES=1)
// serviceAvailable throws instead, so the suite fails rather than skip.
describe.skipIf(!available)("PostgreSQL", () => {
  testNamedSecrets("PostgreSQL", async () => {
    const schema = await createTestSchema("named_secrets");
    return {
      target: { dialect: "postgres", url: schema.url, schema: schema.schema },
      cleanup: () => schema.drop(),
    };
  });
});
