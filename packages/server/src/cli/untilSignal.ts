// How the long-running commands (serve, worker, nats auth-listen, nats listen) wait to be stopped.

/** Resolves when SIGTERM or SIGINT arrives; a second one ends the process at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      // A second signal ends the process at once (Ctrl-C twice); one within a second of the
      // first is the same stop delivered twice (a supervisor signalling npm and node) and waits.
      const first = Date.now();
      const force = () => {
        if (Date.now() - first >= 1000) process.exit(130);
      };
      process.on("SIGTERM", force);
      process.on("SIGINT", force);
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
