// The receiver's HTTP answers: JSON bodies, and which status each verification code maps to.
import type { VerifyErrorCode } from "../signing/types.js";
import type { ReceiverResponse } from "./types.js";

const JSON_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
};

export function jsonResponse(status: number, value: unknown): ReceiverResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(value) };
}

export function errorResponse(status: number, code: string, message: string): ReceiverResponse {
  return jsonResponse(status, { error: { code, message } });
}

/**
 * 401 when the request could not be authenticated, 400 when its timestamp is unusable, 500
 * when the receiver itself is misconfigured (the sender can do nothing about it, and a 5xx
 * makes it retry once the configuration is fixed). Unknown codes fail closed as 401.
 */
export function statusForVerifyCode(code: VerifyErrorCode | (string & {})): 400 | 401 | 500 {
  if (code.startsWith("timestamp.")) return 400;
  if (code.startsWith("secret.") || code === "url.missing") return 500;
  return 401;
}

export function misconfigurationMessage(code: string): string {
  if (code === "url.missing") {
    return (
      "Server misconfiguration: this signing scheme covers the request URL and the receiver " +
      "was not given it (set publicUrl on the adapter)."
    );
  }
  return "Server misconfiguration: the receiver's verification secrets are missing or invalid.";
}

/** 413, before any signature work; the connection is closed so an unread body is not drained. */
export function tooLargeResponse(maxBodyBytes: number): ReceiverResponse {
  const response = errorResponse(413, "body.too_large", `The body exceeds ${maxBodyBytes} bytes`);
  response.headers.connection = "close";
  return response;
}

/** True when a Content-Length header already announces more than the limit. */
export function declaredTooLarge(
  contentLength: string | null | undefined,
  maxBodyBytes: number,
): boolean {
  if (contentLength === null || contentLength === undefined) return false;
  const declared = Number(contentLength);
  return Number.isFinite(declared) && declared > maxBodyBytes;
}
