// The routes' shared OpenAPI answers (the record shapes are in wire/recordShapes.ts).
import { errorShape } from "../../wire/recordShapes.js";
import { responseSchema } from "../routeSchema.js";

export const errorResponse = responseSchema(errorShape);
/** The answer of a DELETE that removed something: no body. */
export const DELETED = { description: "Deleted (no body)", type: "null" } as const;
