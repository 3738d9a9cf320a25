// The functions of herald.example.yaml's `transport: function` endpoints, loaded by `herald serve`
// and `herald worker` at start (`functions.module`). Each named export that is a function is one
// an endpoint can name in its `url`; returning delivers (the value is kept in the attempt log),
// throwing retries. `simulate` is built in and may not be exported here.

/** Prints one audit line per message to standard output. */
export function auditLog(message, context) {
  const line = { audit: message.id, type: message.type, attempt: context.attempt };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return { logged: true };
}
