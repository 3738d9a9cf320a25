// The built-in `simulate` function, through the function transport and the delivery worker on the
// memory store: transient failures end delivered on the 3rd attempt (counted again after a
// replay), simulate_failure dead-letters at max attempts, simulate_delay_ms waits and honours the
// endpoint's timeout, and anything else is delivered at once.
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import {
  createFunctionTransport,
  type FunctionDeliveryContext,
} from "../../packages/core/src/delivery/transports/function.js";
import {
  MAX_SIMULATE_DELAY_MS,
  SIMULATE_FUNCTION_NAME,
  simulateDelivery,
} from "../../packages/core/src/delivery/transports/simulate.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import type { JsonObject, JsonValue } from "../../packages/webhooks/src/core/json.js";
import { testMessage } from "../helpers/deliveryRecords.js";

const START = Date.UTC(2025, 0, 1);

function context(attempt: number, signal = new AbortController().signal): FunctionDeliveryContext {
  return {
    deliveryId: "dlv_1",
    endpointId: "ep_1",
    attemptNumber: attempt,
    attempt,
    maxAttempts: 5,
    headers: {},
    signal,
    signed: null,
  };
}

async function outcome(payload: unknown, attempt = 1): Promise<unknown> {
  try {
    return await simulateDelivery(testMessage(payload), context(attempt));
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

describe("simulateDelivery", () => {
  it("succeeds at once without flags, for any payload", async () => {
    for (const payload of [{}, { simulate_transient: "yes" }, [1, 2], "text", null, 42]) {
      expect(await outcome(payload)).toEqual({ simulated: true, attempt: 1, delayed_ms: 0 });
    }
  });

  it("simulate_transient fails attempts 1 and 2, succeeds on the 3rd and after", async () => {
    const payload = { simulate_transient: true };
    expect(await outcome(payload, 1)).toEqual({
      threw: "simulate_transient: attempt 1 fails; attempt 3 will succeed",
    });
    expect(await outcome(payload, 2)).toMatchObject({
      threw: expect.stringMatching(/^simulate_transient: attempt 2 fails/),
    });
    expect(await outcome(payload, 3)).toEqual({ simulated: true, attempt: 3, delayed_ms: 0 });
    expect(await outcome(payload, 4)).toMatchObject({ simulated: true, attempt: 4 });
  });

  it("simulate_failure fails every attempt, also with simulate_transient", async () => {
    for (const attempt of [1, 3, 50]) {
      expect(await outcome({ simulate_failure: true, simulate_transient: true }, attempt)).toEqual({
        threw: `simulate_failure: attempt ${attempt} fails, as every attempt does`,
      });
    }
  });

  it("reads only the payload's own keys", async () => {
    const payload = JSON.parse('{"__proto__": {"simulate_failure": true}}') as JsonValue;
    expect(await outcome(payload)).toMatchObject({ simulated: true });
  });

  it("waits simulate_delay_ms, and refuses a delay that is not an integer 0–300000", async () => {
    const started = performance.now();
    expect(await outcome({ simulate_delay_ms: 120 })).toEqual({
      simulated: true,
      attempt: 1,
      delayed_ms: 120,
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    for (const bad of [-1, 1.5, "100", MAX_SIMULATE_DELAY_MS + 1]) {
      expect(await outcome({ simulate_delay_ms: bad })).toEqual({
        threw: "simulate_delay_ms must be an integer from 0 to 300000 (milliseconds)",
      });
    }
  });

  it("stops waiting when the signal is aborted", async () => {
    const controller = new AbortController();
    const waiting = simulateDelivery(
      testMessage({ simulate_delay_ms: MAX_SIMULATE_DELAY_MS }),
      context(1, controller.signal),
    );
    controller.abort(new Error("timed out"));
    await expect(waiting).rejects.toThrow("timed out");
  });
});

describe("simulate through the delivery worker", () => {
  const clock = new ManualClock(START);
  const store = createMemoryDeliveryStore({ clock });
  const transport = createFunctionTransport({
    functions: { [SIMULATE_FUNCTION_NAME]: simulateDelivery },
    clock,
  });
  const worker = createDeliveryWorker({
    store,
    clock,
    transports: { function: transport },
    random: () => 0.5,
  });

  afterEach(() => clock.advance(3_600_000));

  async function dispatch(payload: JsonObject, timeoutMs = 2_000): Promise<string> {
    const type = `sim.${Math.random().toString(36).slice(2)}`;
    await store.createEndpoint({
      transport: "function",
      target: SIMULATE_FUNCTION_NAME,
      eventTypes: [type],
      secrets: [{ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
      retry: { schedule_s: [1, 1, 1, 1] },
      timeoutMs,
    });
    const { deliveryIds } = await createDispatcher({ store, clock }).dispatch({ type, payload });
    return deliveryIds[0] as string;
  }

  async function runAttempts(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await worker.runOnce();
      clock.advance(1_000);
    }
  }

  it("simulate_transient: delivered on attempt 3, and again on the 3rd attempt after a replay", async () => {
    const id = await dispatch({ simulate_transient: true });
    await runAttempts(3);
    let found = await store.getDelivery(id);
    expect(found?.delivery).toMatchObject({ status: "delivered", attempts: 3 });
    expect(found?.attempts.map((a) => a.succeeded)).toEqual([false, false, true]);
    expect(found?.attempts[2]?.responseBody).toBe('{"simulated":true,"attempt":3,"delayed_ms":0}');

    await store.replayDelivery(id);
    await runAttempts(3);
    found = await store.getDelivery(id);
    expect(found?.delivery).toMatchObject({ status: "delivered", attempts: 3 });
    expect(found?.attempts.map((a) => a.succeeded)).toEqual([
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
  });

  it("simulate_failure: dead-lettered after exactly max_attempts", async () => {
    const id = await dispatch({ simulate_failure: true });
    await runAttempts(8);
    const found = await store.getDelivery(id);
    expect(found?.delivery).toMatchObject({ status: "dead_lettered", attempts: 5, maxAttempts: 5 });
    expect(found?.attempts).toHaveLength(5);
    expect(found?.attempts[4]?.error).toBe(
      "function: simulate_failure: attempt 5 fails, as every attempt does",
    );
  });

  it("simulate_delay_ms longer than the endpoint's timeout is a timeout", async () => {
    const id = await dispatch({ simulate_delay_ms: 5_000 }, 50);
    await runAttempts(1);
    const found = await store.getDelivery(id);
    expect(found?.delivery.status).toBe("retrying");
    expect(found?.attempts[0]?.error).toBe("timeout: function did not settle within 50 ms");
  });
});
