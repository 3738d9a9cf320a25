// The service in-process on PostgreSQL (a schema of its own).
import { describe } from "vitest";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testService } from "./serviceSuite.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("PostgreSQL", () => {
  testService("PostgreSQL", async () => {
    const schema = await createTestSchema("service");
    return {
      target: { dialect: "postgres", url: schema.url, schema: schema.schema },
      cleanup: () => schema.drop(),
    };
  });
});
