// What the auth callout accepts as an authorization request: only a JWT of that type, signed by
// the server it names, unexpired, and (with an xkey) sealed to ours. nats-server itself refuses
// client publishes to $SYS.REQ.USER.AUTH, so forged requests are built here directly.
import { Algorithms, encode } from "@nats-io/jwt";
import { createCurve, createServer, createUser, type KeyPair } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import {
  BadAuthorizationRequest,
  readAuthorizationRequest,
} from "../../packages/nats/src/platform/authCallout.js";

const encoder = new TextEncoder();

async function request(
  signer: KeyPair,
  overrides: { serverId?: string; type?: string; exp?: number } = {},
): Promise<string> {
  const claims = {
    aud: "nats-authorization-request",
    jti: "",
    iat: 0,
    iss: "",
    name: "",
    sub: "",
    ...(overrides.exp === undefined ? {} : { exp: overrides.exp }),
    nats: {
      server_id: { id: overrides.serverId ?? signer.getPublicKey(), name: "n1", host: "127.0.0.1" },
      user_nkey: createUser().getPublicKey(),
      client_info: { host: "127.0.0.1" },
      connect_opts: { auth_token: "hnt_x" },
      type: overrides.type ?? "authorization_request",
      version: 2,
    },
  };
  return encode(Algorithms.v2, claims, signer);
}

const read = (payload: string | Uint8Array, serverXkey?: string, xkey?: KeyPair) =>
  readAuthorizationRequest(
    typeof payload === "string" ? encoder.encode(payload) : payload,
    serverXkey,
    xkey,
  );

describe("readAuthorizationRequest", () => {
  it("accepts a request signed by the server it names, plain or sealed to our xkey", async () => {
    const server = createServer();
    const jwt = await request(server);
    expect((await read(jwt)).connect_opts?.auth_token).toBe("hnt_x");
    const ours = createCurve();
    const theirs = createCurve();
    const sealed = theirs.seal(encoder.encode(jwt), ours.getPublicKey());
    expect((await read(sealed, theirs.getPublicKey(), ours)).user_nkey).toMatch(/^U/);
  });

  it("refuses garbage, other JWT types, a request signed by someone else and an expired one", async () => {
    const server = createServer();
    await expect(read("not a jwt")).rejects.toThrow(/not a signed JWT/);
    await expect(read(`${"e30"}.${"e30"}.${"AAAA"}`)).rejects.toThrow(BadAuthorizationRequest);
    await expect(request(server, { type: "user" }).then(read)).rejects.toThrow(
      /not an authorization request/,
    );
    const impostor = createServer();
    await expect(request(impostor, { serverId: server.getPublicKey() }).then(read)).rejects.toThrow(
      /not signed by the server it names/,
    );
    const past = Math.floor(Date.now() / 1000) - 60;
    await expect(request(server, { exp: past }).then(read)).rejects.toThrow(/expired/);
    // A tampered payload fails the signature.
    const jwt = await request(server);
    const [h, p, sig] = jwt.split(".");
    const tampered = `${h}.${p!.slice(0, -2)}AA.${sig}`;
    await expect(read(tampered)).rejects.toThrow(BadAuthorizationRequest);
  });

  it("refuses a sealed request without an xkey, or sealed to another key", async () => {
    const jwt = await request(createServer());
    const ours = createCurve();
    const theirs = createCurve();
    const sealed = theirs.seal(encoder.encode(jwt), ours.getPublicKey());
    await expect(read(sealed, theirs.getPublicKey())).rejects.toThrow(/encrypted, and no xkey/);
    await expect(read(sealed, theirs.getPublicKey(), createCurve())).rejects.toThrow(
      /does not decrypt/,
    );
    await expect(read(encoder.encode("short"), theirs.getPublicKey(), ours)).rejects.toThrow(
      /does not decrypt/,
    );
  });
});
