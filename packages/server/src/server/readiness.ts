// What /ready checks: the database (always) and whatever else the process depends on, registered
// by name (buildApp's `readinessChecks`, e.g. a message bus). The checks run at once, each within
// the same time limit; the answer names each one's outcome, never a driver's text (addresses,
// paths, credentials go to the log only).

import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export interface ReadinessCheck {
  /** Resolves when the dependency can serve now; rejects (with any error) when it cannot. */
  check(): Promise<void>;
  /** A failed required check makes /ready answer 503; an optional one is only reported. Default true. */
  required?: boolean;
}

/** One check's outcome as /ready shows it. */
export interface CheckOutcome {
  status: "ok" | "failed";
  required: boolean;
  duration_ms: number;
  /** When failed: the error's stable code (`check.timeout`, `check.failed` or the HeraldError's). */
  code?: string;
  /** When failed: a public sentence; the underlying error is logged. */
  message?: string;
}

export interface ReadinessReport {
  /** True when every required check passed. */
  ready: boolean;
  checks: Record<string, CheckOutcome>;
  /** The first failed required check's name, when not ready. */
  failed?: string;
}

class CheckTimeout extends Error {}

function within(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The failure's public code and sentence (the error itself is for the log). */
export type DescribeFailure = (error: unknown) => { code: string; message: string };

const describeFailure: DescribeFailure = (error) => {
  if (error instanceof CheckTimeout) {
    return { code: "check.timeout", message: `No answer in time; ${SEE_LOG}` };
  }
  return {
    code: isHeraldError(error) ? error.code : "check.failed",
    message: `The check failed; ${SEE_LOG}`,
  };
};

const SEE_LOG = "the server log has the details";

export interface DescribedCheck extends ReadinessCheck {
  /** How this check's failures are told; default: by code, with a generic sentence. */
  describe?: DescribeFailure;
}

/**
 * Runs every check at once, each within `timeoutMs`; `onFailure` sees each failure (logging).
 * Never rejects.
 */
export async function runReadinessChecks(
  checks: ReadonlyMap<string, DescribedCheck>,
  timeoutMs: number,
  onFailure: (name: string, error: unknown) => void,
): Promise<ReadinessReport> {
  const entries = [...checks];
  const outcomes = await Promise.all(
    entries.map(async ([name, check]): Promise<CheckOutcome> => {
      const required = check.required !== false;
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        await within(
          Promise.resolve().then(() => check.check()),
          timeoutMs,
        );
        return { status: "ok", required, duration_ms: elapsed() };
      } catch (error) {
        onFailure(name, error);
        const failure = (check.describe ?? describeFailure)(error);
        return { status: "failed", required, duration_ms: elapsed(), ...failure };
      }
    }),
  );
  const report: ReadinessReport = { ready: true, checks: {} };
  entries.forEach(([name], i) => {
    const outcome = outcomes[i]!;
    report.checks[name] = outcome;
    if (outcome.status === "failed" && outcome.required && report.ready) {
      report.ready = false;
      report.failed = name;
    }
  });
  return report;
}
