// Verifying by hand: the raw body, every secret of a rotation, a typed result.
import { verifyWebhook } from "@heraldjs/webhooks";

export function isAuthentic(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
): boolean {
  const result = verifyWebhook({
    scheme: "stripe", // standard | stripe | github | slack | shopify | twilio | eventing | hmac
    secrets: [
      process.env.STRIPE_WEBHOOK_SECRET ?? "",
      process.env.STRIPE_PREVIOUS_SECRET ?? "",
    ].filter(Boolean),
    headers, // node headers, a plain object or fetch Headers
    body: rawBody, // exactly as received: a string or bytes, never a parsed object
    toleranceSeconds: 300, // both ways around now
  });
  if (!result.ok) {
    console.warn(`webhook refused: ${result.code}`); // signature.invalid, timestamp.stale, …
    return false;
  }
  return true; // result.id is the event id (evt_…), result.timestamp the signed time
}
