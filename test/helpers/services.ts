// Which real services the integration suites can reach. A suite whose service is down is
// skipped with a loud notice, except under CI=true or HERALD_REQUIRE_SERVICES=1, where the
// missing service fails the run instead.
import { connect } from "node:net";

export type ServiceName = "postgres" | "redis" | "nats" | "rabbitmq";

const urls: Record<ServiceName, string> = {
  postgres: process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test",
  redis: process.env.HERALD_TEST_REDIS ?? "redis://127.0.0.1:6379",
  nats: process.env.HERALD_TEST_NATS ?? "nats://127.0.0.1:4222",
  rabbitmq: process.env.HERALD_TEST_RABBITMQ ?? "amqp://guest:guest@127.0.0.1:5672",
};

export function serviceUrl(name: ServiceName): string {
  return urls[name];
}

export function servicesRequired(): boolean {
  return process.env.CI === "true" || process.env.HERALD_REQUIRE_SERVICES === "1";
}

function reachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

/**
 * Resolves to true when the service answers. When it does not: throws under CI (the suite
 * must not silently pass), otherwise prints a notice and resolves to false so the caller skips.
 */
export async function serviceAvailable(name: ServiceName): Promise<boolean> {
  const url = urls[name];
  if (await reachable(url)) return true;
  const message = `${name} is not reachable at ${url}`;
  if (servicesRequired()) {
    throw new Error(`${message}; CI=true or HERALD_REQUIRE_SERVICES=1 makes it mandatory`);
  }
  console.warn(`\n  ⚠ SKIPPING ${name}-backed tests: ${message}\n`);
  return false;
}
