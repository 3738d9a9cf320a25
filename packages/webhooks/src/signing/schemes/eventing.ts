// Eventing: `X-Eventing-Timestamp: <unix s>` and `X-Eventing-Signature: v1=<hex HMAC-SHA256>`
// over "{timestamp}.{body}" (comma-separated entries during a rotation), `X-Eventing-Id` as the
// delivery id. A preset of the generic HMAC engine, so both share one verified code path.
import { defineHmacScheme } from "./hmac.js";

export const eventingScheme = defineHmacScheme("eventing", {
  algorithm: "sha256",
  encoding: "hex",
  secretEncoding: "utf8",
  signatureHeader: "X-Eventing-Signature",
  signaturePrefix: "v1=",
  separator: ",",
  timestampHeader: "X-Eventing-Timestamp",
  timestampUnit: "seconds",
  idHeader: "X-Eventing-Id",
  template: "{timestamp}.{body}",
});
