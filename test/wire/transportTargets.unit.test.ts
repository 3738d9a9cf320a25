// The endpoint target forms of the message-shaped transports, as POST/PATCH /v1/endpoints and
// herald.yaml check them: valid ones pass, others are 400 request.invalid naming `url` without
// echoing a password.
import { describe, expect, it } from "vitest";
import type { EndpointTransport } from "../../packages/core/src/model/deliveryRecords.js";
import { checkEndpointTarget } from "../../packages/server/src/wire/endpoint.js";

const valid: Array<[EndpointTransport, string]> = [
  ["websocket", "ws://listener.example.com:8080/herald"],
  ["websocket", "wss://listener.example.com/herald"],
  ["grpc", "grpc://listener.example.com:50051"],
  ["grpc", "grpcs://listener.example.com:443"],
  ["rabbitmq", "amqp://guest:guest@mq.example.com:5672/?exchange=herald&routing_key=orders"],
  ["rabbitmq", "amqps://mq.example.com/prod?routing_key=orders"],
  ["redis-streams", "redis://cache.example.com:6379/0?stream=herald.orders&maxlen=1000"],
  ["redis-streams", "rediss://user:pw@cache.example.com?stream=orders"],
  ["nats-core", "client.{tenant}.evt"],
  ["nats-core", "events.{type}"],
  ["nats-core", "t-{tenant}.{type}.m.{message_id}"],
  ["nats-core", "plain.subject"],
  ["sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"],
  ["sqs", "https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo?group_id=acme"],
  // Any origin's queue URL has the form: which origin is allowed is the service's check
  // (the configured aws.endpoint, see test/config/endpointTransports.unit.test.ts).
  ["sqs", "http://127.0.0.1:5000/123456789012/orders"],
  ["eventbridge", "eventbridge://default"],
  ["eventbridge", "eventbridge://orders-bus?source=acme.herald&region=eu-west-1"],
];

const invalid: Array<[EndpointTransport, string]> = [
  ["websocket", "http://listener.example.com/herald"],
  ["websocket", "ws://listener.example.com/#frag"],
  ["grpc", "https://listener.example.com:50051"],
  ["grpc", "grpc://listener.example.com"],
  ["rabbitmq", "amqp://guest:s3cretpass@mq.example.com:5672/?exchange=herald"],
  ["rabbitmq", "http://mq.example.com/?routing_key=orders"],
  ["redis-streams", "redis://user:s3cretpass@cache.example.com:6379/0"],
  ["redis-streams", "redis://cache.example.com/x?stream=orders&maxlen=-3"],
  ["nats-core", "client.{tenant}.*"],
  ["nats-core", "client.>"],
  ["nats-core", "client..evt"],
  ["nats-core", ".client.evt"],
  ["nats-core", "client.{tenant} evt"],
  ["nats-core", "client.{user}.evt"],
  ["nats-core", "client.{tenant.evt"],
  ["nats-core", "client.tenant}.evt"],
  ["nats-core", `x.${"a".repeat(4000)}`],
  ["sqs", "https://user:s3cretpass@sqs.eu-west-1.amazonaws.com/123456789012/orders"],
  ["sqs", "https://sqs.eu-west-1.amazonaws.com/orders"],
  ["sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders?group_id=a"],
  ["sqs", "sqs://orders"],
  ["sqs", "ftp://127.0.0.1/123456789012/orders"],
  ["eventbridge", "https://events.eu-west-1.amazonaws.com/orders-bus"],
  ["eventbridge", "eventbridge://orders-bus?source=aws.ec2"],
  ["eventbridge", "eventbridge://orders bus"],
  ["eventbridge", "eventbridge://orders-bus?region=Europe"],
];

describe("endpoint targets of the message-shaped transports", () => {
  it.each(valid)("%s accepts %s", (transport, url) => {
    expect(() => checkEndpointTarget(transport, url)).not.toThrow();
  });

  it.each(invalid)("%s refuses %s (request.invalid on url, no password)", (transport, url) => {
    let caught: unknown;
    try {
      checkEndpointTarget(transport, url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "request.invalid", details: { field: "url" } });
    expect(String((caught as Error).message)).toMatch(/^url: /);
    expect(String((caught as Error).message)).not.toContain("s3cretpass");
  });
});
