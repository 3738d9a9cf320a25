// The RabbitMQ target (`amqp(s)://…?exchange=…&routing_key=…`): the forms accepted, what each
// part becomes, and refusals that never repeat the URL or its password.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRabbitMqTarget } from "../../packages/rabbitmq/src/delivery/transports/rabbitmq.js";
import { parseRabbitMqTarget } from "../../packages/rabbitmq/src/delivery/transports/rabbitmqTarget.js";
import { expectRefusalsHideAnyPassword, expectTargetForms } from "./targetChecks.js";

describe("RabbitMQ target", () => {
  it("checkRabbitMqTarget accepts the documented forms and refuses others without echoing a password", () => {
    expectTargetForms(
      checkRabbitMqTarget,
      [
        "amqp://h?routing_key=q",
        "amqp://user:pw@h:5673/?exchange=&routing_key=q",
        "amqps://user:pw@broker.example.com/prod?exchange=events&routing_key=order.created",
        "amqp://h/%2F?exchange=ex&routing_key=",
        "amqp://[::1]:5672/vh?exchange=ex&routing_key=k",
      ],
      [
        "http://h?routing_key=q",
        "amqp://h",
        "amqp://h?exchange=ex",
        "amqp://h?routing_key=",
        "amqp://h/a/b?routing_key=q",
        "amqp://h?routing_key=q&routing_key=r",
        "amqp://h?routing_key=q&exchnage=typo",
        `amqp://h?routing_key=${"k".repeat(256)}`,
        "amqp://h ?routing_key=q",
        "amqp://user:hunter2secret@?routing_key=q",
        "amqp://user:hunter2secret@h?exchange=ex#frag",
      ],
    );
  });

  it("reads host, port, vhost, credentials, exchange and routing key", () => {
    expect(
      parseRabbitMqTarget(
        "amqps://us%40er:p%3Ass@broker.example.com:5673/my%2Fvhost?exchange=ev&routing_key=a.b",
      ),
    ).toEqual({
      connectionKey: "amqps://us%40er:p%3Ass@broker.example.com:5673/my%2Fvhost",
      protocol: "amqps",
      hostname: "broker.example.com",
      port: 5673,
      username: "us@er",
      password: "p:ss",
      vhost: "my/vhost",
      exchange: "ev",
      routingKey: "a.b",
    });
    expect(parseRabbitMqTarget("amqp://h?routing_key=q")).toMatchObject({
      port: 5672,
      vhost: "/",
      exchange: "",
      username: undefined,
      password: undefined,
    });
    expect(parseRabbitMqTarget("amqps://[::1]/?routing_key=q")).toMatchObject({
      hostname: "::1",
      port: 5671,
    });
    // One connection per URL without the query: the same broker for two exchanges, not for two users.
    const key = (t: string) => parseRabbitMqTarget(t).connectionKey;
    expect(key("amqp://u:p@h/?exchange=a&routing_key=k")).toBe(
      key("amqp://u:p@h?exchange=b&routing_key=k"),
    );
    expect(key("amqp://u:p@h/?routing_key=k")).not.toBe(key("amqp://v:p@h/?routing_key=k"));
  });

  it("exchange and routing key round-trip any text; a refusal never holds the password", () => {
    const text = fc.string({ minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(text, text, (exchange, routingKey) => {
        const parsed = parseRabbitMqTarget(
          `amqp://h?exchange=${encodeURIComponent(exchange)}&routing_key=${encodeURIComponent(routingKey)}`,
        );
        expect([parsed.exchange, parsed.routingKey]).toEqual([exchange, routingKey]);
      }),
    );
    expectRefusalsHideAnyPassword(checkRabbitMqTarget, "amqp", [
      "",
      "?exchange=x",
      "/a/b?routing_key=k",
      "?routing_key=k&x=1",
    ]);
  });
});
