// NATS subject filters outside NATS (the memory bus): `*` matches one token, a final `>` one
// or more, anything else token for token.

/** True when `subject` matches `filter` under NATS wildcard rules. */
export function subjectMatches(filter: string, subject: string): boolean {
  const wanted = filter.split(".");
  const tokens = subject.split(".");
  for (let index = 0; index < wanted.length; index++) {
    const token = wanted[index]!;
    if (token === ">" && index === wanted.length - 1) return tokens.length > index;
    if (index >= tokens.length) return false;
    if (token !== "*" && token !== tokens[index]) return false;
  }
  return tokens.length === wanted.length;
}
