// Input rules every route gets, registered once on the app so a new route cannot forget them:
// path parameters and query values must be text a store can hold (no U+0000, no unpaired
// surrogate: 400 `text.invalid` before any query), and a JSON body must pass the one
// bounded-depth rule and hold only storable text (400 `body.too_deep` / `text.invalid`) before
// it is parsed. The webhook route keeps its raw bytes (routes/ingest.ts): its payload gets the
// same rules in ingest/inboundRequest.ts.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { jsonTextError, scanJsonText } from "@heraldjs/webhooks/internal/core/jsonText.js";
import { textProblem } from "@heraldjs/webhooks/internal/core/text.js";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from "fastify";

/** `text.invalid` for the first path parameter or query value no store can hold. */
function requestTextError(params: unknown, query: unknown): HeraldError | undefined {
  for (const [part, values] of [
    ["path parameter", params],
    ["query parameter", query],
  ] as const) {
    if (typeof values !== "object" || values === null) continue;
    for (const [name, value] of Object.entries(values)) {
      for (const text of Array.isArray(value) ? value : [value]) {
        if (typeof text !== "string") continue;
        const problem = textProblem(text);
        if (problem !== undefined) {
          return new HeraldError("text.invalid", `The ${part} ${name} ${problem}`, {
            details: { field: `${part === "path parameter" ? "params" : "query"}.${name}` },
          });
        }
      }
    }
  }
  return undefined;
}

export function registerInputRules(app: FastifyInstance): void {
  // Fastify's own JSON parser (prototype poisoning refused as before), after one scan of the text.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const problem = scanJsonText(body as string);
    if (problem !== undefined) {
      done(jsonTextError(problem, "The JSON body"), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  // Before the body is read (and before the webhook route looks its source up): path and query
  // are known once the request is routed. Callback style: an async hook costs a promise per
  // request (webhooks included).
  app.addHook(
    "onRequest",
    (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const error = requestTextError(request.params, request.query);
      if (error === undefined) done();
      else done(error);
    },
  );
}
