// What every delivery transport receives and returns: one attempt in, one logged outcome out.
import type {
  AttemptRecord,
  DeliveryRecord,
  EndpointRecord,
  MessageRecord,
} from "../../model/deliveryRecords.js";
import type { ResponseClassification } from "../responseRules.js";

export interface TransportSendInput {
  delivery: DeliveryRecord;
  message: MessageRecord;
  endpoint: EndpointRecord;
  /**
   * 1, 2, … since the delivery was created or last replayed (`DeliveryRecord.attempts` + 1);
   * informational, nothing on the wire depends on it.
   */
  attemptNumber: number;
}

/**
 * One attempt as the store's `AttemptInput` wants it: an `AttemptRecord` before the store gives
 * it an id and a number (lowercase header names, body ≤ the limit). `startedAt` is ISO 8601 from
 * the injected clock, taken just before the request is sent; `durationMs` comes from a monotonic
 * timer (a ManualClock does not make it 0); `succeeded` is `classification.outcome ===
 * "success"`; `error` is `timeout: …`, `ssrf.blocked: …`, `network: …`, `signing: …` or
 * `request.invalid: …`, never a secret.
 */
export type TransportAttempt = Omit<AttemptRecord, "id" | "deliveryId" | "number">;

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
