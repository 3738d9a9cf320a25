// The SQS and EventBridge target parsers: the forms they accept and what they read from them,
// and hostile inputs (credentials, fragments, other hosts, IP literals, the metadata address,
// encoded or dot-segment paths, bad names, long values), refused as request.invalid naming
// `url`, never quoting the target.
import { describe, expect, it } from "vitest";
import { parseEventBridgeTarget } from "../../packages/aws/src/delivery/transports/eventbridgeTarget.js";
import { parseSqsTarget } from "../../packages/aws/src/delivery/transports/sqsTarget.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

const ACCOUNT = "123456789012";
const MOTO = "http://127.0.0.1:4566";

/**
 * What `parse` threw for `target`: a request.invalid naming url, never quoting the target (when
 * it is long enough to tell) nor the password-like text the hostile ones hold.
 */
function refusal(parse: () => unknown, target: string): string {
  try {
    parse();
  } catch (error) {
    expect(isHeraldError(error, "request.invalid")).toBe(true);
    const { message, details } = error as { message: string; details: unknown };
    expect(details).toEqual({ field: "url" });
    expect(message).toMatch(/^url: /);
    expect(message).not.toContain("s3cr3tpass");
    if (target.length > 24) expect(message).not.toContain(target);
    return message;
  }
  throw new Error("expected a refusal");
}

describe("parseSqsTarget", () => {
  it("reads the region, account, name and FIFO-ness of AWS queue URLs", () => {
    expect(parseSqsTarget(`https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/orders`)).toEqual({
      queueUrl: `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/orders`,
      region: "eu-west-1",
      account: ACCOUNT,
      name: "orders",
      fifo: false,
    });
    expect(
      parseSqsTarget(`https://sqs.us-gov-west-1.amazonaws.com/${ACCOUNT}/o-1_x.fifo?group_id=a!~b`),
    ).toEqual({
      queueUrl: `https://sqs.us-gov-west-1.amazonaws.com/${ACCOUNT}/o-1_x.fifo`,
      region: "us-gov-west-1",
      account: ACCOUNT,
      name: "o-1_x.fifo",
      fifo: true,
      groupId: "a!~b",
    });
    expect(parseSqsTarget(`https://ap-south-1.queue.amazonaws.com/${ACCOUNT}/q`).region).toBe(
      "ap-south-1",
    );
    expect(parseSqsTarget(`https://queue.amazonaws.com/${ACCOUNT}/q`).region).toBe("us-east-1");
    expect(
      parseSqsTarget(`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${"q".repeat(80)}`).name,
    ).toHaveLength(80);
    expect(
      parseSqsTarget(`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${"q".repeat(75)}.fifo`).fifo,
    ).toBe(true);
    const group = "g".repeat(128);
    expect(
      parseSqsTarget(`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=${group}`)
        .groupId,
    ).toBe(group);
  });

  it("with an endpoint override, takes queue URLs on its origin only (the region is the client's)", () => {
    expect(parseSqsTarget(`${MOTO}/${ACCOUNT}/orders`, { endpoint: `${MOTO}/` })).toEqual({
      queueUrl: `${MOTO}/${ACCOUNT}/orders`,
      region: undefined,
      account: ACCOUNT,
      name: "orders",
      fifo: false,
    });
    for (const target of [
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`,
      `http://127.0.0.1:4567/${ACCOUNT}/orders`,
      `http://localhost:4566/${ACCOUNT}/orders`,
      `https://127.0.0.1:4566/${ACCOUNT}/orders`,
      `http://169.254.169.254/${ACCOUNT}/orders`,
    ]) {
      expect(refusal(() => parseSqsTarget(target, { endpoint: MOTO }), target)).toMatch(
        /override's origin/,
      );
    }
  });

  it("refuses an override that is not an http(s) URL as config.invalid", () => {
    expect(() => parseSqsTarget(`${MOTO}/${ACCOUNT}/q`, { endpoint: "ftp://x" })).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
  });

  it.each([
    ["credentials", `https://AKIAFAKE:s3cr3tpass@sqs.us-east-1.amazonaws.com/${ACCOUNT}/q`],
    ["a fragment", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q#s3cr3tpass`],
    ["an empty fragment", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q#`],
    ["plain http", `http://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q`],
    ["another host", `https://evil.example/${ACCOUNT}/q`],
    ["an AWS look-alike", `https://sqs.us-east-1.amazonaws.com.evil.example/${ACCOUNT}/q`],
    ["a suffix host", `https://evilsqs.us-east-1.amazonaws.com/${ACCOUNT}/q`],
    ["an IPv4 literal", `https://52.94.0.1/${ACCOUNT}/q`],
    ["the metadata address", `http://169.254.169.254/latest/meta-data/`],
    ["an IPv6 literal", `https://[::1]/${ACCOUNT}/q`],
    ["a port", `https://sqs.us-east-1.amazonaws.com:8443/${ACCOUNT}/q`],
    ["the default port written out", `https://sqs.us-east-1.amazonaws.com:443/${ACCOUNT}/q`],
    ["upper case", `https://SQS.us-east-1.amazonaws.com/${ACCOUNT}/q`],
    ["a dot segment", `https://sqs.us-east-1.amazonaws.com/999999999999/../${ACCOUNT}/q`],
    ["percent-encoding", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q%2Fx`],
    ["a backslash", `https://sqs.us-east-1.amazonaws.com\\${ACCOUNT}\\q`],
    ["white space", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q `],
    ["a short account", `https://sqs.us-east-1.amazonaws.com/12345/q`],
    ["no queue", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/`],
    ["a deeper path", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q/x`],
    ["a bad queue name", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.name`],
    ["a long queue name", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${"q".repeat(81)}`],
    ["a long FIFO name", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${"q".repeat(76)}.fifo`],
    ["a bare .fifo", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/.fifo`],
    ["a bad region", `https://sqs.us_east_1.amazonaws.com/${ACCOUNT}/q`],
    ["another parameter", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?token=s3cr3tpass`],
    [
      "group_id twice",
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=a&group_id=b`,
    ],
    ["group_id on a standard queue", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q?group_id=a`],
    ["an empty group_id", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=`],
    [
      "a long group_id",
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=${"g".repeat(129)}`,
    ],
    [
      "a non-ASCII group_id",
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=gr%C3%BC%C3%9F`,
    ],
    ["a space in group_id", `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q.fifo?group_id=a+b`],
    ["another scheme", `amqp://sqs.us-east-1.amazonaws.com/${ACCOUNT}/q`],
    ["not a URL", "orders"],
    ["nothing", ""],
  ])("refuses %s", (_what, target) => {
    const message = refusal(() => parseSqsTarget(target), target);
    expect(message).toContain("must be an SQS queue URL");
  });
});

describe("parseEventBridgeTarget", () => {
  it("reads the bus, source (default herald) and optional region", () => {
    expect(parseEventBridgeTarget("eventbridge://default")).toEqual({
      eventBusName: "default",
      source: "herald",
    });
    expect(
      parseEventBridgeTarget(
        "eventbridge://Orders_v2.prod?source=com.example/orders&region=eu-central-1",
      ),
    ).toEqual({
      eventBusName: "Orders_v2.prod",
      source: "com.example/orders",
      region: "eu-central-1",
    });
    expect(
      parseEventBridgeTarget("eventbridge://aws.partner/example.com/123/bus").eventBusName,
    ).toBe("aws.partner/example.com/123/bus");
    expect(parseEventBridgeTarget(`eventbridge://${"b".repeat(256)}?`).eventBusName).toHaveLength(
      256,
    );
    expect(parseEventBridgeTarget(`eventbridge://b?source=${"s".repeat(256)}`).source).toHaveLength(
      256,
    );
  });

  it.each([
    ["another scheme", "https://events.us-east-1.amazonaws.com/default"],
    ["upper-case scheme", "EventBridge://default"],
    ["no bus", "eventbridge://"],
    ["no bus with a query", "eventbridge://?source=x"],
    ["credentials", "eventbridge://AKIAFAKE:s3cr3tpass@default"],
    ["a port", "eventbridge://default:443"],
    ["an ARN", "eventbridge://arn:aws:events:us-east-1:123456789012:event-bus/default"],
    ["a fragment", "eventbridge://default#s3cr3tpass"],
    ["white space", "eventbridge://default bus"],
    ["a percent-encoded name", "eventbridge://de%66ault"],
    ["a long bus name", `eventbridge://${"b".repeat(257)}`],
    ["a non-ASCII bus name", "eventbridge://grüße"],
    ["an aws. source", "eventbridge://default?source=aws.ec2"],
    ["an AWS. source", "eventbridge://default?source=AWS.ec2"],
    ["an empty source", "eventbridge://default?source="],
    ["a long source", `eventbridge://default?source=${"s".repeat(257)}`],
    ["a source with spaces", "eventbridge://default?source=a%20b"],
    ["a bad region", "eventbridge://default?region=US-EAST-1"],
    ["a metadata-looking region", "eventbridge://default?region=169.254.169.254"],
    ["another parameter", "eventbridge://default?endpoint=http://169.254.169.254&token=s3cr3tpass"],
    ["a parameter twice", "eventbridge://default?source=a&source=b"],
    ["not a URL", "default"],
  ])("refuses %s", (_what, target) => {
    const message = refusal(() => parseEventBridgeTarget(target), target);
    expect(message).toContain("must be eventbridge://");
  });
});
