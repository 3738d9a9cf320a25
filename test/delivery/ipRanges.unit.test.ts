// Address classification and allowlist parsing for the SSRF guard (pure: nothing is contacted).
import { describe, expect, it } from "vitest";
import {
  type BlockReason,
  classifyAddress,
  parseCidrList,
} from "../../packages/core/src/delivery/ipRanges.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

const blocked: readonly [string, BlockReason][] = [
  // loopback and unspecified
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["::1", "loopback"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  // private
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["fec0::1", "private"],
  ["64:ff9b:1::a00:1", "private"],
  // link-local and metadata
  ["169.254.0.1", "link_local"],
  ["fe80::1", "link_local"],
  ["fe80::1%eth0", "link_local"],
  ["169.254.169.254", "metadata"],
  ["169.254.170.2", "metadata"],
  ["100.100.100.200", "metadata"],
  ["192.0.0.192", "metadata"],
  ["fd00:ec2::254", "metadata"],
  // CGNAT
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  // multicast, broadcast, reserved
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.0.8", "reserved"],
  ["192.88.99.1", "reserved"],
  ["100::1", "reserved"],
  ["2001::1", "reserved"],
  ["1::1", "reserved"],
  // documentation and benchmarking
  ["192.0.2.1", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["198.18.0.1", "benchmark"],
  ["198.19.255.255", "benchmark"],
  ["2001:2::1", "benchmark"],
  // IPv6 forms of blocked IPv4 addresses
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::FFFF:7F00:0001", "loopback"],
  ["[::ffff:127.0.0.1]", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:a9fe:a9fe", "metadata"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["::ffff:0:7f00:1", "loopback"], // IPv4-translated (SIIT)
  ["::127.0.0.1", "loopback"], // IPv4-compatible (deprecated)
  ["::7f00:1", "loopback"],
  ["::a00:1", "private"],
  ["::5db8:d822", "reserved"], // compatible form of a public address: unroutable
  ["64:ff9b::127.0.0.1", "loopback"], // NAT64
  ["64:ff9b::a9fe:a9fe", "metadata"],
  ["64:ff9b::c0a8:101", "private"],
  ["2002:7f00:1::1", "loopback"], // 6to4
  ["2002:a00:1::", "private"],
  // not addresses at all: fail closed
  ["localhost", "invalid"],
  ["127.1", "invalid"],
  ["0x7f000001", "invalid"],
  ["", "invalid"],
];

const allowed: readonly string[] = [
  "93.184.216.34",
  "8.8.8.8",
  "1.1.1.1",
  "100.63.255.255", // just below CGNAT
  "100.128.0.0", // just above CGNAT
  "172.15.255.255",
  "172.32.0.0",
  "169.253.255.255",
  "223.255.255.255",
  "2606:4700::1111",
  "2001:4860:4860::8888",
  "::ffff:93.184.216.34",
  "::ffff:5db8:d822",
  "64:ff9b::5db8:d822",
  "2002:5db8:d822::1",
];

describe("classifyAddress", () => {
  it.each(blocked)("blocks %s as %s", (ip, reason) => {
    expect(classifyAddress(ip)).toMatchObject({ allowed: false, reason });
  });

  it.each(allowed)("allows public %s", (ip) => {
    expect(classifyAddress(ip)).toMatchObject({ allowed: true, allowlisted: false });
  });

  it("lets allowlisted ranges through, including IPv4-mapped forms of them", () => {
    const allow = parseCidrList("127.0.0.0/8,::1/128");
    for (const ip of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) {
      expect(classifyAddress(ip, { allow })).toEqual({
        allowed: true,
        address: ip.toLowerCase(),
        allowlisted: true,
      });
    }
    expect(classifyAddress("10.0.0.1", { allow })).toMatchObject({ reason: "private" });
    expect(classifyAddress("169.254.169.254", { allow })).toMatchObject({ reason: "metadata" });
  });
});

describe("parseCidrList", () => {
  it("parses comma- and space-separated text and arrays, IPv4 and IPv6", () => {
    const list = parseCidrList(" 127.0.0.0/8, ::1/128  10.1.0.0/16,fd00::/8 ");
    expect(list.entries.map(({ address, prefix, family }) => [address, prefix, family])).toEqual([
      ["127.0.0.0", 8, "ipv4"],
      ["::1", 128, "ipv6"],
      ["10.1.0.0", 16, "ipv4"],
      ["fd00::", 8, "ipv6"],
    ]);
    expect(list.has("10.1.200.3")).toBe(true);
    expect(list.has("10.2.0.1")).toBe(false);
    expect(list.has("fd00::1")).toBe(true);
    expect(list.has("fe80::1")).toBe(false);
    expect(list.has("not-an-ip")).toBe(false);

    const fromArray = parseCidrList(["192.168.0.0/16", "[::1]"]);
    expect(fromArray.entries).toHaveLength(2);
    expect(fromArray.has("192.168.44.1")).toBe(true);
    expect(fromArray.has("::1")).toBe(true);
  });

  it("treats a bare address as one host and an empty list as nothing", () => {
    const list = parseCidrList("10.0.0.7");
    expect(list.entries[0]).toMatchObject({ prefix: 32 });
    expect(list.has("10.0.0.7")).toBe(true);
    expect(list.has("10.0.0.8")).toBe(false);
    expect(parseCidrList("").entries).toEqual([]);
    expect(parseCidrList([]).has("127.0.0.1")).toBe(false);
  });

  it("accepts /0 and full-length prefixes", () => {
    expect(parseCidrList("0.0.0.0/0").has("10.0.0.1")).toBe(true);
    expect(parseCidrList("::/0").has("fe80::1")).toBe(true);
    expect(parseCidrList("2001:db8::1/128").has("2001:db8::1")).toBe(true);
  });

  it.each([
    ["10.0.0.0/33"],
    ["::/129"],
    ["10.0.0.0/"],
    ["10.0.0.0/8a"],
    ["10.0.0.0/-1"],
    ["256.0.0.0/8"],
    ["10.0.0/8"],
    ["example.com/32"],
    ["127.1"],
    ["fe80::1%eth0/64"],
    ["gggg::/16"],
  ])("rejects %s with config.invalid naming the entry", (entry) => {
    let caught: unknown;
    try {
      parseCidrList(`127.0.0.0/8, ${entry}`);
    } catch (error) {
      caught = error;
    }
    expect(isHeraldError(caught, "config.invalid")).toBe(true);
    expect((caught as Error).message).toContain(`"${entry}"`);
    expect((caught as { details: unknown }).details).toEqual({ setting: "ssrf.allow", entry });
  });
});
