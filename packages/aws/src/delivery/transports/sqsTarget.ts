// The SQS endpoint target: the queue URL, `https://sqs.<region>.amazonaws.com/<account>/<queue>`
// (or the legacy `https://<region>.queue.amazonaws.com/…` and `https://queue.amazonaws.com/…`),
// or a queue URL on the configured endpoint override's origin. The URL only names the queue:
// the transport never sends to a host taken from it (see sqs.ts), and parsing refuses anything
// that is not a plain queue URL, so a target cannot smuggle a host, credentials or a path in.
import {
  checkQueryParameters,
  invalidTargetUrl as invalid,
  parseTargetUrl,
} from "@heraldjs/core/internal/delivery/transports/targetUrl.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** Where one SQS endpoint sends. */
export interface SqsTarget {
  /** The queue URL, canonical and without its query: SendMessage's QueueUrl. */
  queueUrl: string;
  /**
   * The region the URL names; undefined for a queue on the endpoint override (the client's
   * configured region applies).
   */
  region: string | undefined;
  /** The 12-digit AWS account id. */
  account: string;
  /** The queue name, `.fifo` included for a FIFO queue. */
  name: string;
  fifo: boolean;
  /** FIFO only: the MessageGroupId from `?group_id=`; the transport defaults it to the endpoint id. */
  groupId?: string;
}

export interface ParseSqsTargetOptions {
  /** The SQS endpoint override (AwsClientOptions.endpoint): queue URLs must be on its origin. */
  endpoint?: string;
}

const FORM = "must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue>";
const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d+";
const AWS_HOSTS: readonly RegExp[] = [
  new RegExp(`^sqs\\.(${REGION})\\.amazonaws\\.com$`),
  new RegExp(`^(${REGION})\\.queue\\.amazonaws\\.com$`),
];
/** The oldest form, without a region, is us-east-1's. */
const LEGACY_HOST = "queue.amazonaws.com";
const PATH = /^\/(\d{12})\/([^/]+)$/;
/** 1–80 characters, `.fifo` included when present. */
const STANDARD_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
/** MessageGroupId: 1–128 printable ASCII characters. */
const GROUP_ID = /^[!-~]{1,128}$/;
const PARAMETERS: ReadonlySet<string> = new Set(["group_id"]);

/** The origin of the endpoint override; throws `config.invalid` when it is not an http(s) URL. */
function overrideOrigin(endpoint: string): string {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new HeraldError(
      "config.invalid",
      "The AWS endpoint override must be an http(s) URL such as http://127.0.0.1:5000",
      { details: { field: "endpoint" } },
    );
  }
  return url.origin;
}

/** The region of an AWS SQS host, or null for any other host. */
function awsRegion(url: URL): string | null {
  if (url.protocol !== "https:" || url.port !== "") return null;
  if (url.hostname === LEGACY_HOST) return "us-east-1";
  for (const host of AWS_HOSTS) {
    const match = host.exec(url.hostname);
    if (match?.[1] !== undefined) return match[1];
  }
  return null;
}

/**
 * Parses an SQS target. Throws `request.invalid` ("url: …", details.field "url") for anything
 * but a queue URL on an AWS SQS host (no override) or on the override's origin (with one):
 * no credentials, fragment, port other than the origin's, percent-encoding, dot segments or
 * query parameter other than `group_id` (FIFO queues only). The message never quotes the target.
 */
export function parseSqsTarget(target: string, options: ParseSqsTargetOptions = {}): SqsTarget {
  if (typeof target !== "string") throw invalid(FORM);
  const url = parseTargetUrl(target, FORM);
  if (url.username !== "" || url.password !== "") {
    throw invalid(`${FORM} (without credentials)`);
  }
  if (target.includes("#")) throw invalid(`${FORM} (without a fragment)`);
  let region: string | undefined;
  if (options.endpoint === undefined) {
    const found = awsRegion(url);
    if (found === null) throw invalid(`${FORM} (not an AWS SQS host)`);
    region = found;
  } else if (url.origin !== overrideOrigin(options.endpoint)) {
    throw invalid(`${FORM} (a queue on the configured AWS endpoint override's origin)`);
  }
  // The URL exactly as written up to the query: no upper case, default port, userinfo,
  // backslash, percent-encoding or dot segment the URL parser would have normalized away.
  const queueUrl = `${url.origin}${url.pathname}`;
  const queryAt = target.indexOf("?");
  if ((queryAt === -1 ? target : target.slice(0, queryAt)) !== queueUrl) {
    throw invalid(`${FORM} (written in its canonical form)`);
  }
  const path = PATH.exec(url.pathname);
  if (path === null) throw invalid(`${FORM} (the path is /<12-digit account>/<queue name>)`);
  const [, account = "", name = ""] = path;
  const fifo = name.endsWith(".fifo");
  if (!(fifo ? FIFO_NAME : STANDARD_NAME).test(name)) {
    throw invalid(
      `${FORM} (a queue name is 1-80 characters of A-Z a-z 0-9 _ -, ending .fifo for a FIFO queue)`,
    );
  }
  checkQueryParameters(url, PARAMETERS, FORM);
  const groupId = url.searchParams.get("group_id");
  if (groupId !== null) {
    if (!fifo) throw invalid(`${FORM} (group_id applies to FIFO queues only)`);
    if (!GROUP_ID.test(groupId)) {
      throw invalid(`${FORM} (group_id is 1-128 printable ASCII characters)`);
    }
  }
  return {
    queueUrl,
    region,
    account,
    name,
    fifo,
    ...(groupId === null ? {} : { groupId }),
  };
}
