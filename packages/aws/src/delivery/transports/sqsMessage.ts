// The SendMessage input of one SQS attempt: the signed body as MessageBody, the signed headers
// as String message attributes (within SQS's 10-attribute and naming rules), and for a FIFO
// queue the deduplication and group ids; plus the size SQS counts against its limit.
import { createHash } from "node:crypto";
import type { MessageAttributeValue, SendMessageCommandInput } from "@aws-sdk/client-sqs";
import { heraldMessageHeaders } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type { TransportSendInput } from "@heraldjs/core/internal/delivery/transports/types.js";
import type { SqsTarget } from "./sqsTarget.js";

/** SQS's per-message limit, in bytes: the body plus every attribute's name, type and value. */
export const MAX_SQS_MESSAGE_BYTES = 262_144;
/** Message attributes per message. */
export const MAX_SQS_ATTRIBUTES = 10;

/** 1–256 of A-Z a-z 0-9 _ - ., no "..", no leading or trailing ".", no AWS./Amazon. prefix. */
function validAttributeName(name: string): boolean {
  return (
    /^[A-Za-z0-9_.-]{1,256}$/.test(name) &&
    !name.includes("..") &&
    !name.startsWith(".") &&
    !name.endsWith(".") &&
    !/^(aws|amazon)\./i.test(name)
  );
}

/** The characters SQS accepts in a body or attribute value (XML 1.0's). */
const SQS_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

export function validSqsText(text: string): boolean {
  return SQS_TEXT.test(text);
}

/** `id` when it is 1–128 printable ASCII characters (SQS's rule), else its sha256 in hex. */
export function fifoId(id: string): string {
  return /^[!-~]{1,128}$/.test(id) ? id : createHash("sha256").update(id, "utf8").digest("hex");
}

/**
 * The names of the signing scheme's headers in `headers`: neither Herald's own nor an endpoint
 * extra that kept its value (a scheme header overrides an extra of the same name).
 */
function schemeHeaderNames(input: TransportSendInput, headers: Record<string, string>): string[] {
  const herald = new Set(Object.keys(heraldMessageHeaders(input)));
  const extras = new Map(
    Object.entries(input.endpoint.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return Object.keys(headers).filter(
    (name) => !herald.has(name) && (!extras.has(name) || extras.get(name) !== headers[name]),
  );
}

export interface SqsAttributes {
  attributes: Record<string, MessageAttributeValue>;
  /** Header names left out: over the 10 attributes, or a name or value SQS would refuse. */
  dropped: string[];
}

/**
 * The signed headers as String attributes, names as they are. SQS takes at most 10, so they go
 * in this order until 10 are taken: the signing scheme's (webhook-id, webhook-timestamp,
 * webhook-signature for `standard`; a scheme's own otherwise), then Herald's (content-type,
 * x-herald-message-id, x-herald-delivery-id, x-herald-event-type, x-herald-tenant), then the
 * endpoint's extra headers in their order. A header whose name or value SQS would refuse (an
 * `aws.` prefix, a character outside A-Z a-z 0-9 _ - ., an empty value) is left out too.
 */
export function sqsAttributes(
  input: TransportSendInput,
  headers: Record<string, string>,
): SqsAttributes {
  const scheme = schemeHeaderNames(input, headers);
  const herald = Object.keys(heraldMessageHeaders(input)).filter((name) => name in headers);
  const first = new Set([...scheme, ...herald]);
  const ordered = [...scheme, ...herald, ...Object.keys(headers).filter((n) => !first.has(n))];
  const attributes: Record<string, MessageAttributeValue> = {};
  const dropped: string[] = [];
  let count = 0;
  for (const name of ordered) {
    const value = headers[name] ?? "";
    if (
      count === MAX_SQS_ATTRIBUTES ||
      !validAttributeName(name) ||
      value === "" ||
      !validSqsText(value)
    ) {
      dropped.push(name);
      continue;
    }
    attributes[name] = { DataType: "String", StringValue: value };
    count += 1;
  }
  return { attributes, dropped };
}

/** The size SQS counts: the body, and each attribute's name, data type and value, in UTF-8. */
export function sqsMessageSize(
  body: string,
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): number {
  let size = Buffer.byteLength(body, "utf8");
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8");
    size += Buffer.byteLength(value.StringValue ?? "", "utf8");
  }
  return size;
}

/** SendMessage's input: for a FIFO queue the message id deduplicates and the group orders. */
export function sendMessageInput(
  input: TransportSendInput,
  target: SqsTarget,
  body: string,
  attributes: Record<string, MessageAttributeValue>,
): SendMessageCommandInput {
  return {
    QueueUrl: target.queueUrl,
    MessageBody: body,
    MessageAttributes: attributes,
    ...(target.fifo
      ? {
          MessageDeduplicationId: fifoId(input.message.id),
          MessageGroupId: fifoId(target.groupId ?? input.endpoint.id),
        }
      : {}),
  };
}
