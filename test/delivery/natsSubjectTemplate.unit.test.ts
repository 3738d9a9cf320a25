// The subject templates of `nats-core` endpoints: which templates pass the endpoint check, what
// each placeholder becomes, and which message values cannot become a subject (the attempt is
// then rejected with that reason, never retried).
import { describe, expect, it } from "vitest";
import {
  checkNatsSubjectTemplate,
  renderNatsSubject,
} from "../../packages/nats/src/delivery/transports/natsSubjectTemplate.js";

const values = { tenant: "acme", type: "order.created.v1", messageId: "msg_01J9" };

describe("nats-core subject templates", () => {
  it.each([
    ["client.{tenant}.evt", "client.acme.evt"],
    ["events.{type}", "events.order.created.v1"],
    ["t-{tenant}.{type}.{message_id}", "t-acme.order.created.v1.msg_01J9"],
    ["fixed.subject", "fixed.subject"],
  ])("renders %s as %s", (template, subject) => {
    expect(() => checkNatsSubjectTemplate(template)).not.toThrow();
    expect(renderNatsSubject(template, values)).toEqual({ ok: true, subject });
  });

  it.each([
    ["client.{tenant}.*", /no wildcards/],
    ["a.>", /no wildcards/],
    ["a..b", /dot-separated tokens/],
    ["a.b.", /dot-separated tokens/],
    ["", /dot-separated tokens/],
    ["a b", /no spaces/],
    ["a.{user}", /unknown placeholder \{user\}/],
    ["a.{tenant", /outside a placeholder/],
    [`a.${"b".repeat(4000)}`, /longer than 4000 bytes/],
  ])("refuses the template %s (request.invalid naming url)", (template, problem) => {
    let caught: unknown;
    try {
      checkNatsSubjectTemplate(template);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "request.invalid", details: { field: "url" } });
    expect((caught as Error).message).toMatch(/^url: /);
    expect((caught as Error).message).toMatch(problem);
    // A stored target that is not a template is refused at send time too.
    expect(renderNatsSubject(template, values)).toMatchObject({ ok: false });
  });

  it.each([
    ["client.{tenant}.evt", { tenant: "acme.eu" }, /tenant "acme\.eu".*contains '\.'/],
    ["client.{tenant}.evt", { tenant: "acme corp" }, /white space/],
    ["client.{tenant}.evt", { tenant: "*" }, /'\*' or '>'/],
    ["client.{tenant}.evt", { tenant: "" }, /is empty/],
    ["events.{type}", { type: "order.>" }, /type "order\.>".*'\*' or '>'/],
    ["events.{type}", { type: "order..created" }, /empty dot-separated part/],
    ["m.{message_id}", { messageId: "msg.1" }, /message id "msg\.1".*contains '\.'/],
  ])("%s cannot take %o", (template, override, reason) => {
    const rendered = renderNatsSubject(template, { ...values, ...override });
    expect(rendered.ok).toBe(false);
    expect(rendered.ok ? "" : rendered.reason).toMatch(reason);
  });

  it("checks only the values the template uses", () => {
    expect(renderNatsSubject("client.{tenant}.evt", { ...values, type: "a>b" })).toEqual({
      ok: true,
      subject: "client.acme.evt",
    });
  });
});
