// checkWebhookHeaders decides, before the body arrives, only what the body and the secrets cannot
// change: for every scheme, a signed request passes it whatever the body; a request without
// signature headers fails it; and whenever it fails, verifyWebhook with the real secret and any
// body fails with the same code (so refusing early never changes the answer).
//
// What breaking it shows: a header check that computes a MAC against the empty body refuses valid
// requests (signature.invalid); one that keeps body-dependent failures refuses them too; one that
// differs from verifyWebhook shows as a code mismatch in the property.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { schemeNames } from "../../packages/webhooks/src/signing/registry.js";
import {
  checkWebhookHeaders,
  generateSecret,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/signing/sign.js";

const url = "https://hooks.example.com/in";
const NOW = 1_800_000_000;

describe("checkWebhookHeaders", () => {
  for (const scheme of schemeNames) {
    const secret = generateSecret(scheme);

    it(`${scheme}: a signed request passes whatever its body`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
          const headers = signWebhook({ scheme, secret, body, id: "msg_1", timestamp: NOW, url });
          const early = checkWebhookHeaders({ scheme, headers, now: new Date(NOW * 1000), url });
          expect(early).toBeUndefined();
        }),
        { numRuns: 30 },
      );
    });

    it(`${scheme}: no headers fails it, as verifyWebhook does`, () => {
      const early = checkWebhookHeaders({ scheme, headers: {}, now: new Date(NOW * 1000), url });
      expect(early?.ok).toBe(false);
      const late = verifyWebhook({ scheme, secrets: [secret], headers: {}, body: "{}", url });
      expect(late.ok).toBe(false);
      if (!late.ok) expect(early?.code).toBe(late.code);
    });

    it(`${scheme}: a failure it reports is verifyWebhook's too, for any body`, () => {
      const signed = signWebhook({ scheme, secret, body: "{}", id: "msg_1", timestamp: NOW, url });
      const names = Object.keys(signed);
      const mangled = fc.record({
        drop: fc.subarray(names),
        garble: fc.dictionary(fc.constantFrom(...names), fc.string({ maxLength: 30 })),
        skew: fc.constantFrom(0, 10_000, -10_000),
        body: fc.uint8Array({ maxLength: 100 }),
      });
      fc.assert(
        fc.property(mangled, ({ drop, garble, skew, body }) => {
          const headers: Record<string, string> = { ...signed, ...garble };
          for (const name of drop) delete headers[name];
          const now = new Date((NOW + skew) * 1000);
          const early = checkWebhookHeaders({ scheme, headers, now, url });
          if (early === undefined) return;
          const late = verifyWebhook({ scheme, secrets: [secret], headers, body, now, url });
          expect(late.ok).toBe(false);
          if (!late.ok) expect(late.code).toBe(early.code);
        }),
        { numRuns: 100 },
      );
    });
  }
});
