// SQS transport: an attempt sends the signed message to the endpoint's queue with SendMessage
// (the exact signed body, the signed headers as message attributes) and succeeds when SQS
// answers with a MessageId. The endpoint's target, the queue URL, only names the queue: requests
// go to the regional SQS endpoint or the configured override, never to a host read from a
// customer's target (the SSRF guard of this transport).
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type AttemptTimer,
  answeredAttempt,
  failedAttempt,
  parseAttemptTarget,
  succeededAttempt,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import { createDrainingTransport } from "@heraldjs/core/internal/delivery/transports/drainingTransport.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { callBeforeDeadline, regionalClients } from "./awsCall.js";
import { describeAwsError } from "./awsSendErrors.js";
import { type AwsTransportOptions, resolveAwsTransportOptions } from "./awsTransportOptions.js";
import {
  MAX_SQS_MESSAGE_BYTES,
  sendMessageInput,
  sqsAttributes,
  sqsMessageSize,
  validSqsText,
} from "./sqsMessage.js";
import { parseSqsTarget } from "./sqsTarget.js";

export { MAX_SQS_MESSAGE_BYTES } from "./sqsMessage.js";

const REJECTED = { outcome: "reject", reason: "rejected" } as const;

/**
 * The SQS delivery transport. Target: the queue URL (parseSqsTarget), with `?group_id=` for a
 * FIFO queue's MessageGroupId (default: the endpoint id, so one endpoint's messages stay in
 * order). One SQSClient per region, created on first use, with `useQueueUrlAsEndpoint: false`:
 * the SDK would otherwise send to the queue URL's host, so a target could aim Herald's signed
 * AWS requests at any host; here a target on another host is refused by parseSqsTarget and the
 * request goes to `sqs.<region>.amazonaws.com` or `options.aws.endpoint` only.
 *
 * What goes out: MessageBody = the exact signed body (the payload's JSON); MessageAttributes =
 * the signed headers as String attributes, names unchanged (lowercase, `-`); SQS takes at most
 * 10, so the signing scheme's go first (webhook-id, webhook-timestamp, webhook-signature for
 * `standard`), then Herald's content-type and x-herald-*, then the endpoint's extras (see
 * sqsAttributes; the success records the names left out as `dropped_headers`). A consumer
 * verifies with verifyWebhook({ headers: the attributes' StringValues, body: the Body }).
 * FIFO: MessageDeduplicationId = the message id (its sha256 hex when over 128 characters), so a
 * retry or replay within SQS's 5-minute window is delivered once.
 *
 * Outcomes: a MessageId is a success (the attempt's response body records it, with the
 * SequenceNumber for FIFO). Rejected at once (dead-lettered, never retried): a message over
 * SQS's 262,144 bytes (body + attributes), checked before sending, and a body SQS cannot carry
 * (InvalidMessageContents: characters outside XML 1.0's) — resending the same bytes can never
 * succeed. Everything else is retried: throttling, 5xx and network failures; and also
 * QueueDoesNotExist, AccessDenied, KMS errors and InvalidParameterValue, which are configuration
 * (the queue may be created, a policy fixed, a queue's MaximumMessageSize raised) — as a webhook
 * to a 404 is retried until its schedule ends.
 */
export function createSqsTransport(options: AwsTransportOptions = {}): Transport {
  const { config, clock, deadlineMs } = resolveAwsTransportOptions(options);
  const parse = (target: string) =>
    parseSqsTarget(target, config.endpoint === undefined ? {} : { endpoint: config.endpoint });
  // One client per region (undefined: the configured region, for queues on the override).
  const clients = regionalClients(
    (region) =>
      new SQSClient({
        ...config,
        ...(region === undefined ? {} : { region }),
        useQueueUrlAsEndpoint: false,
      }),
  );

  async function sendAttempt(
    input: TransportSendInput,
    timer: AttemptTimer,
  ): Promise<TransportResult> {
    const timeoutMs = deadlineMs(input.endpoint.timeoutMs);
    const parsed = parseAttemptTarget(timer, input.endpoint.target, parse);
    if (!parsed.ok) return parsed.result;
    const { target } = parsed;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const body = prepared.message.body.toString("utf8");
    const { attributes, dropped } = sqsAttributes(input, prepared.message.headers);
    const size = sqsMessageSize(body, attributes);
    if (size > MAX_SQS_MESSAGE_BYTES) {
      const error = `sqs: message too large: ${size} bytes with its attributes; SQS takes at most ${MAX_SQS_MESSAGE_BYTES}`;
      return answeredAttempt(timer, { error, classification: REJECTED });
    }
    if (!validSqsText(body)) {
      const error = "sqs: the body holds characters SQS does not carry (U+FFFE, U+FFFF)";
      return answeredAttempt(timer, { error, classification: REJECTED });
    }
    const command = new SendMessageCommand(sendMessageInput(input, target, body, attributes));
    const sent = await callBeforeDeadline(
      (signal) => clients.get(target.region).send(command, { abortSignal: signal }),
      timeoutMs,
    );
    if (sent.kind === "timeout") {
      return failedAttempt(timer, `timeout: no answer from SQS within ${timeoutMs} ms`, "timeout");
    }
    if (sent.kind === "error") {
      const failure = describeAwsError("sqs", sent.error, timeoutMs);
      const classification =
        failure.serviceError === "InvalidMessageContents"
          ? REJECTED
          : { outcome: "retry" as const, reason: failure.reason };
      return answeredAttempt(timer, { error: failure.error, classification });
    }
    const { MessageId, SequenceNumber } = sent.output;
    if (MessageId === undefined || MessageId === "") {
      return failedAttempt(timer, "sqs: SendMessage answered without a MessageId", "network_error");
    }
    return succeededAttempt(
      timer,
      JSON.stringify({
        queue: target.name,
        message_id: MessageId,
        ...(SequenceNumber === undefined ? {} : { sequence_number: SequenceNumber }),
        ...(dropped.length === 0 ? {} : { dropped_headers: dropped }),
      }),
    );
  }

  return createDrainingTransport({
    name: "sqs",
    clock,
    attempt: sendAttempt,
    thrownFallback: "SendMessage failed",
    // Sends in flight end first (each within its deadline), so no answer is lost.
    release: async () => clients.destroyAll(),
  });
}
