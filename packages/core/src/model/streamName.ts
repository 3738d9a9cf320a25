// Stream names `type/id`: the aggregate type and id an event store derives every envelope's
// `aggregate` from, so a name that would make an invalid envelope is refused up front.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { AGGREGATE_TYPE_PATTERN, MAX_ENVELOPE_STRING_LENGTH } from "../core/validateEnvelope.js";

export interface StreamName {
  type: string;
  id: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function invalid(stream: unknown, reason: string): HeraldError {
  const shown = typeof stream === "string" ? JSON.stringify(stream.slice(0, 80)) : typeof stream;
  return new HeraldError("stream.invalid", `Invalid stream name ${shown}: ${reason}`, {
    details: { stream: typeof stream === "string" ? stream.slice(0, 300) : undefined },
  });
}

/**
 * Splits `type/id` at the first `/` (the type cannot hold one; the id may). Throws HeraldError
 * `stream.invalid` unless the type matches AGGREGATE_TYPE_PATTERN and the id is a non-empty
 * string of at most 255 characters without control characters.
 */
export function parseStreamName(stream: unknown): StreamName {
  if (typeof stream !== "string") throw invalid(stream, "expected a string");
  const slash = stream.indexOf("/");
  if (slash === -1) throw invalid(stream, 'expected "<type>/<id>", like "order/123"');
  const type = stream.slice(0, slash);
  const id = stream.slice(slash + 1);
  if (!AGGREGATE_TYPE_PATTERN.test(type)) {
    throw invalid(
      stream,
      'the type must start with a letter and hold at most 100 letters, digits, "_", "-" or "."',
    );
  }
  if (id.length === 0) throw invalid(stream, "the id must not be empty");
  if (id.length > MAX_ENVELOPE_STRING_LENGTH) {
    throw invalid(stream, `the id must be at most ${MAX_ENVELOPE_STRING_LENGTH} characters`);
  }
  if (CONTROL_CHARACTER.test(id))
    throw invalid(stream, "the id must not contain control characters");
  return { type, id };
}
