// A throw-away self-signed TLS certificate for the name "localhost" only (no IP address in it),
// made with the openssl binary, for tests of transports that connect over TLS.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servicesRequired } from "./services.js";

/**
 * True when the `openssl` binary runs. When it does not: throws under CI=true or
 * HERALD_REQUIRE_SERVICES=1 (the TLS suites must not silently pass), otherwise prints a loud
 * notice and the TLS suites skip.
 */
export const opensslAvailable = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    const message = "the openssl binary is missing (the TLS tests make their certificate with it)";
    if (servicesRequired()) {
      throw new Error(`${message}; CI=true or HERALD_REQUIRE_SERVICES=1 makes it mandatory`);
    }
    console.warn(`\n  ⚠ SKIPPING TLS tests: ${message}\n`);
    return false;
  }
})();

export interface LocalhostCertificate {
  /** PEM private key (EC P-256). */
  key: Buffer;
  /** PEM certificate, valid for a day: also the root a client must trust. */
  cert: Buffer;
}

/** A new key and self-signed certificate for "localhost"; nothing is left on disk. */
export function createLocalhostCertificate(): LocalhostCertificate {
  const dir = mkdtempSync(join(tmpdir(), "herald-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
