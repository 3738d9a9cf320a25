// What every delivery transport receives and returns: one attempt in, one logged outcome out.
import type { DeliveryRecord, EndpointRecord, MessageRecord } from "../../model/deliveryRecords.js";
import type { ResponseClassification } from "../responseRules.js";

export interface TransportSendInput {
  delivery: DeliveryRecord;
  message: MessageRecord;
  endpoint: EndpointRecord;
  /** 1, 2, … (`AttemptRecord.number`); informational, nothing on the wire depends on it. */
  attemptNumber: number;
}

/** One attempt as the store's `AttemptInput` wants it (lowercase header names, body ≤ the limit). */
export interface TransportAttempt {
  /** ISO 8601 (UTC, ms) from the injected clock, taken just before the request is sent. */
  startedAt: string;
  /** Measured with a monotonic timer, so a ManualClock does not make it 0. */
  durationMs: number;
  /** `classification.outcome === "success"`. */
  succeeded: boolean;
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  /** `timeout: …`, `ssrf.blocked: …`, `network: …`, `signing: …`, `request.invalid: …`; never a secret. */
  error: string | null;
}

export interface TransportResult {
  attempt: TransportAttempt;
  classification: ResponseClassification;
  /** True when the response body was longer than the limit and only a prefix was kept. */
  responseBodyTruncated: boolean;
}

export interface Transport {
  /** Never rejects for a failed attempt: failures are results. */
  send(input: TransportSendInput): Promise<TransportResult>;
  close(): Promise<void>;
}
