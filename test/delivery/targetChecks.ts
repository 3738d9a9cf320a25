// Checks every URL endpoint target shares: the documented forms pass, the others are refused as
// `request.invalid` ("url: …", details.field "url") without echoing the URL's password.
import fc from "fast-check";
import { expect } from "vitest";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

/** The password the `bad` targets of `expectTargetForms` may hold; no refusal may repeat it. */
export const TARGET_PASSWORD = "hunter2secret";

/** `check` accepts every `good` target and refuses every `bad` one as `request.invalid`. */
export function expectTargetForms(
  check: (target: string) => void,
  good: readonly string[],
  bad: readonly string[],
): void {
  for (const target of good) expect(() => check(target), target).not.toThrow();
  for (const target of bad) {
    let thrown: unknown;
    try {
      check(target);
    } catch (error) {
      thrown = error;
    }
    expect(isHeraldError(thrown, "request.invalid"), target).toBe(true);
    const error = thrown as Error & { details?: unknown };
    expect(error.message).toMatch(/^url: /);
    expect(error.details).toEqual({ field: "url" });
    expect(error.message).not.toContain(TARGET_PASSWORD);
  }
}

/**
 * For any password, `check` refuses `<scheme>://user:<password>@h<rest>` for every one of the
 * (invalid) `rests` without the password in the message, as written or percent-encoded.
 */
export function expectRefusalsHideAnyPassword(
  check: (target: string) => void,
  scheme: string,
  rests: readonly string[],
): void {
  fc.assert(
    fc.property(
      fc.string({ minLength: 6, maxLength: 30 }),
      fc.constantFrom(...rests),
      (password, rest) => {
        const target = `${scheme}://user:${encodeURIComponent(password)}@h${rest}`;
        try {
          check(target);
        } catch (error) {
          expect((error as Error).message).not.toContain(password);
          expect((error as Error).message).not.toContain(encodeURIComponent(password));
          return;
        }
        throw new Error(`accepted ${rest}`);
      },
    ),
  );
}
