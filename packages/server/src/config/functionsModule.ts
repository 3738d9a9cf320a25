// herald.yaml's `functions.module`: the module whose named exports become the functions of
// `transport: function` endpoints, loaded once at start. Every problem is found then (a missing
// module, one that throws while loading, an export shadowing the built-in `simulate`), not as
// dead letters later.

import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { DeliveryFunction } from "@heraldjs/core/internal/delivery/transports/function.js";
import {
  SIMULATE_FUNCTION_NAME,
  simulateDelivery,
} from "@heraldjs/core/internal/delivery/transports/simulate.js";

/** Loading failed; the message says why (without the module's source). */
export class FunctionsModuleError extends Error {
  override readonly name = "FunctionsModuleError";
}

const MAX_CAUSE_LENGTH = 300;

function causeText(error: unknown): string {
  // Duck-typed: an error made in another realm (a vm context) is not `instanceof Error`.
  const { name, message } = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
  };
  const text =
    typeof message === "string"
      ? `${typeof name === "string" ? name : "Error"}: ${message}`
      : String(error);
  return text.length > MAX_CAUSE_LENGTH ? `${text.slice(0, MAX_CAUSE_LENGTH)}…` : text;
}

/**
 * The module at `path` (absolute) imported, and its named exports that are functions, by name
 * (`default` and exports of other kinds are not functions of Herald). Throws
 * FunctionsModuleError when the file is missing, fails to load, or exports `simulate`.
 */
export async function loadFunctionsModule(
  path: string,
): Promise<ReadonlyMap<string, DeliveryFunction>> {
  if (!existsSync(path)) throw new FunctionsModuleError(`${path} does not exist`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new FunctionsModuleError(`${path} failed to load: ${causeText(error)}`, {
      cause: error,
    });
  }
  const functions = new Map<string, DeliveryFunction>();
  for (const [name, value] of Object.entries(namespace)) {
    if (name === "default" || typeof value !== "function") continue;
    if (name === SIMULATE_FUNCTION_NAME) {
      throw new FunctionsModuleError(
        `${path} exports "${SIMULATE_FUNCTION_NAME}", the name of Herald's built-in function: rename the export`,
      );
    }
    functions.set(name, value as DeliveryFunction);
  }
  return functions;
}

/** Every function of the service: the built-in `simulate` and the module's. */
export function serviceFunctions(
  module: ReadonlyMap<string, DeliveryFunction> | null,
): ReadonlyMap<string, DeliveryFunction> {
  return new Map([[SIMULATE_FUNCTION_NAME, simulateDelivery], ...(module ?? [])]);
}
