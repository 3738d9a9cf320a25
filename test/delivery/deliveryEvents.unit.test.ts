import { describe, expect, it } from "vitest";
import { createDeliveryEventEmitter } from "../../packages/core/src/delivery/deliveryEvents.js";

const base = { deliveryId: "dlv_1", endpointId: "ep_1", messageId: "msg_1", attempt: 1 };

describe("delivery event emitter", () => {
  it("has() is false without listeners, true with a plain listener", () => {
    const events = createDeliveryEventEmitter();
    expect(events.has("delivery:succeeded")).toBe(false);
    const off = events.on("delivery:succeeded", () => {});
    expect(events.has("delivery:succeeded")).toBe(true);
    off();
    expect(events.has("delivery:succeeded")).toBe(false);
  });

  it("a listener's enabled() decides has(), checked each time; events still reach it", () => {
    const events = createDeliveryEventEmitter();
    let wanted = false;
    const seen: unknown[] = [];
    const off = events.on("delivery:succeeded", (e) => seen.push(e), { enabled: () => wanted });
    expect(events.has("delivery:succeeded")).toBe(false);
    wanted = true;
    expect(events.has("delivery:succeeded")).toBe(true);
    events.emit("delivery:succeeded", { ...base, statusCode: 200, durationMs: 1 });
    expect(seen).toHaveLength(1);
    off();
    expect(events.has("delivery:succeeded")).toBe(false);
  });

  it("a plain listener or onEvent beside a disabled one keeps has() true; a throwing enabled() too", () => {
    const events = createDeliveryEventEmitter();
    events.on("delivery:attempt", () => {}, { enabled: () => false });
    expect(events.has("delivery:attempt")).toBe(false);
    events.on("delivery:attempt", () => {});
    expect(events.has("delivery:attempt")).toBe(true);
    const withOnEvent = createDeliveryEventEmitter(() => {});
    withOnEvent.on("delivery:attempt", () => {}, { enabled: () => false });
    expect(withOnEvent.has("delivery:attempt")).toBe(true);
    const throwing = createDeliveryEventEmitter();
    throwing.on("delivery:attempt", () => {}, {
      enabled: () => {
        throw new Error("broken");
      },
    });
    expect(throwing.has("delivery:attempt")).toBe(true);
  });

  it("the same function registered twice with options is two listeners", () => {
    const events = createDeliveryEventEmitter();
    let calls = 0;
    const listener = () => {
      calls += 1;
    };
    const offA = events.on("delivery:released", listener, { enabled: () => true });
    events.on("delivery:released", listener, { enabled: () => true });
    events.emit("delivery:released", { ...base, reason: "shutdown", nextAttemptAt: "x" });
    expect(calls).toBe(2);
    offA();
    events.emit("delivery:released", { ...base, reason: "shutdown", nextAttemptAt: "x" });
    expect(calls).toBe(3);
  });
});
