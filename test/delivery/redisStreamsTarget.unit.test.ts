// The Redis Streams target (`redis(s)://…?stream=…&maxlen=…`): the forms accepted, what each part
// becomes, and refusals that never repeat the URL or its password.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRedisStreamsTarget } from "../../packages/redis/src/delivery/transports/redisStreams.js";
import { parseRedisStreamsTarget } from "../../packages/redis/src/delivery/transports/redisStreamsTarget.js";
import { expectRefusalsHideAnyPassword, expectTargetForms } from "./targetChecks.js";

describe("Redis Streams target", () => {
  it("checkRedisStreamsTarget accepts the documented forms and refuses others without echoing a password", () => {
    expectTargetForms(
      checkRedisStreamsTarget,
      [
        "redis://h?stream=s",
        "redis://h:6380/2?stream=herald:events&maxlen=1000",
        "rediss://user:pw@cache.example.com/0?stream=s",
        "redis://:pw@[::1]/?stream=s",
      ],
      [
        "http://h?stream=s",
        "redis://h",
        "redis://h?stream=",
        "redis://h/x?stream=s",
        "redis://h/01?stream=s",
        "redis://h?stream=s&maxlen=0",
        "redis://h?stream=s&maxlen=-5",
        "redis://h?stream=s&maxlen=~5",
        "redis://h?stream=s&stream=t",
        "redis://h?stream=s&max_len=5",
        "redis://h ?stream=s",
        "redis://user:hunter2secret@?stream=s",
        "redis://user:hunter2secret@h/9x?stream=s",
      ],
    );
  });

  it("reads host, port, db, credentials, stream and maxlen", () => {
    expect(
      parseRedisStreamsTarget(
        "rediss://app:p%40ss@cache.example.com:6380/3?stream=herald%3Aorders&maxlen=5000",
      ),
    ).toEqual({
      connectionKey: "rediss://app:p%40ss@cache.example.com:6380/3",
      tls: true,
      hostname: "cache.example.com",
      port: 6380,
      username: "app",
      password: "p@ss",
      db: 3,
      stream: "herald:orders",
      maxlen: 5000,
    });
    expect(parseRedisStreamsTarget("redis://:secret@h?stream=s")).toMatchObject({
      port: 6379,
      db: 0,
      username: undefined,
      password: "secret",
      maxlen: null,
      tls: false,
    });
    // One client per URL without the query; db 0 written or not is the same client.
    const key = (t: string) => parseRedisStreamsTarget(t).connectionKey;
    expect(key("redis://h?stream=a")).toBe(key("redis://h/0?stream=b&maxlen=3"));
    expect(key("redis://h/1?stream=a")).not.toBe(key("redis://h/2?stream=a"));
  });

  it("the stream key round-trips any text; a refusal never holds the password", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (stream) => {
        expect(
          parseRedisStreamsTarget(`redis://h?stream=${encodeURIComponent(stream)}`).stream,
        ).toBe(stream);
      }),
    );
    expectRefusalsHideAnyPassword(checkRedisStreamsTarget, "redis", [
      "",
      "?maxlen=5",
      "/x?stream=s",
      "?stream=s&y=1",
    ]);
  });
});
