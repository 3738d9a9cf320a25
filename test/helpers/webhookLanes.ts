// Continuous load for the outage tests: `lanes` senders each POST distinct signed Stripe webhooks
// one after another, and every answer is kept with the phase (up, down, …) its request was sent in.
import type { Agent } from "undici";
import { errorCode, type HttpResult, send, stripeEvent, stripeHeaders } from "./e2eHttp.js";

export interface LaneSample<P extends string> {
  eventId: string;
  phase: P;
  sentAt: number;
  answeredAt?: number;
  status: number | null;
  code?: string;
  retryAfter?: string;
  /** On a 4xx/5xx: the body is `{"error": {"code", "message"}}` and nothing else. */
  shapeOk?: boolean;
  messageId?: string;
  /** The socket error's code when no answer came. */
  error?: string;
}

export interface WebhookLanesOptions<P extends string> {
  /** `…/webhooks/<source>`. */
  url: string;
  secret: string;
  agent: Agent;
  lanes: number;
  pauseMs: number;
  /** Event ids are `<idPrefix><n>`. */
  idPrefix: string;
  timeoutMs: number;
  /** The phase a request is sent in (read as it is sent). */
  phase: () => P;
}

export interface WebhookLanes<P extends string> {
  samples: LaneSample<P>[];
  inPhase(phase: P): LaneSample<P>[];
  /** Lets each lane finish its request in flight, then resolves. */
  stop(): Promise<void>;
}

/** `{"error": {"code", "message"}}` and nothing else. */
export function isErrorShape(result: HttpResult): boolean {
  const body = result.json as { error?: Record<string, unknown> } | undefined;
  const error = body?.error;
  return (
    body !== undefined &&
    Object.keys(body).length === 1 &&
    typeof error?.code === "string" &&
    typeof error.message === "string"
  );
}

/** POSTs the signed Stripe event `eventId` to `url` (`…/webhooks/<source>`). */
export function postStripeWebhook(
  url: string,
  secret: string,
  eventId: string,
  options: { agent?: Agent; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const body = stripeEvent(eventId);
  return send(url, { method: "POST", headers: stripeHeaders(secret, body), body, ...options });
}

export function startWebhookLanes<P extends string>(
  options: WebhookLanesOptions<P>,
): WebhookLanes<P> {
  let running = true;
  let counter = 0;
  const samples: LaneSample<P>[] = [];
  const lane = async () => {
    while (running) {
      const eventId = `${options.idPrefix}${counter++}`;
      const sample: LaneSample<P> = {
        eventId,
        phase: options.phase(),
        sentAt: Date.now(),
        status: null,
      };
      samples.push(sample);
      try {
        const r = await postStripeWebhook(options.url, options.secret, eventId, {
          agent: options.agent,
          timeoutMs: options.timeoutMs,
        });
        sample.answeredAt = Date.now();
        sample.status = r.status;
        const code = errorCode(r);
        if (code !== undefined) sample.code = code;
        if (r.status >= 400) sample.shapeOk = isErrorShape(r);
        const retryAfter = r.headers["retry-after"];
        if (typeof retryAfter === "string") sample.retryAfter = retryAfter;
        const id = (r.json as { message_id?: string } | undefined)?.message_id;
        if (id !== undefined) sample.messageId = id;
      } catch (error) {
        sample.answeredAt = Date.now();
        sample.error = String((error as { code?: string }).code ?? error);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const load = Promise.all(Array.from({ length: options.lanes }, lane));
  return {
    samples,
    inPhase: (phase) => samples.filter((s) => s.phase === phase),
    stop: async () => {
      running = false;
      await load;
    },
  };
}
