// IP address classification for the SSRF guard: which destinations outbound webhooks may reach.
import { BlockList, isIP } from "node:net";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** Why an address is refused. Stable strings: they appear in `ssrf.blocked` error details. */
export type BlockReason =
  | "benchmark"
  | "broadcast"
  | "cgnat"
  | "documentation"
  | "invalid"
  | "link_local"
  | "loopback"
  | "metadata"
  | "multicast"
  | "private"
  | "reserved"
  | "unspecified";

export type AddressVerdict =
  | { allowed: true; address: string; allowlisted: boolean }
  | { allowed: false; address: string; reason: BlockReason };

interface CidrEntry {
  /** The entry as written, trimmed. */
  readonly text: string;
  readonly address: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
}

/** A parsed allowlist (`ssrf.allow` / HERALD_SSRF_ALLOW). */
export interface CidrList {
  readonly entries: readonly CidrEntry[];
  /** True when the address (or the IPv4 address an IPv4-mapped IPv6 form stands for) is listed. */
  has(address: string): boolean;
}

type Rule = readonly [reason: BlockReason, cidr: string];

// Order matters: the first matching rule names the reason, so the specific ranges
// (metadata inside link-local / unique-local, broadcast inside 240/4) come first.
const IPV4_RULES: readonly Rule[] = [
  ["metadata", "169.254.169.254/32"], // AWS, GCP, Azure, OpenStack, DigitalOcean instance metadata
  ["metadata", "169.254.170.2/32"], // AWS ECS task metadata
  ["metadata", "100.100.100.200/32"], // Alibaba Cloud metadata
  ["metadata", "192.0.0.192/32"], // Oracle Cloud metadata
  ["unspecified", "0.0.0.0/8"], // "this network"; 0.0.0.0 reaches the local host on Linux
  ["private", "10.0.0.0/8"],
  ["cgnat", "100.64.0.0/10"], // shared address space (RFC 6598), often internal in clouds
  ["loopback", "127.0.0.0/8"],
  ["link_local", "169.254.0.0/16"],
  ["private", "172.16.0.0/12"],
  ["reserved", "192.0.0.0/24"], // IETF protocol assignments (RFC 6890)
  ["documentation", "192.0.2.0/24"], // TEST-NET-1: never routed, no legitimate receiver
  ["reserved", "192.88.99.0/24"], // deprecated 6to4 relay anycast (RFC 7526)
  ["private", "192.168.0.0/16"],
  ["benchmark", "198.18.0.0/15"], // RFC 2544; also used for internal fake-IP DNS by some proxies
  ["documentation", "198.51.100.0/24"], // TEST-NET-2
  ["documentation", "203.0.113.0/24"], // TEST-NET-3
  ["multicast", "224.0.0.0/4"],
  ["broadcast", "255.255.255.255/32"],
  ["reserved", "240.0.0.0/4"], // class E
];

const IPV6_RULES: readonly Rule[] = [
  ["unspecified", "::/128"],
  ["loopback", "::1/128"],
  ["metadata", "fd00:ec2::254/128"], // AWS instance metadata over IPv6
  ["reserved", "100::/64"], // discard-only (RFC 6666)
  ["private", "64:ff9b:1::/48"], // local-use NAT64 (RFC 8215): only meaningful inside one network
  ["reserved", "2001::/32"], // Teredo: tunnels to an obfuscated IPv4 address we cannot vet
  ["benchmark", "2001:2::/48"],
  ["reserved", "2001:10::/28"], // deprecated ORCHID
  ["documentation", "2001:db8::/32"],
  ["documentation", "3fff::/20"], // RFC 9637
  ["private", "fc00::/7"], // unique local addresses
  ["link_local", "fe80::/10"],
  ["private", "fec0::/10"], // deprecated site-local
  ["multicast", "ff00::/8"],
];

interface CompiledRule {
  readonly reason: BlockReason;
  readonly list: BlockList;
}

function compile(rules: readonly Rule[], family: "ipv4" | "ipv6"): readonly CompiledRule[] {
  return rules.map(([reason, cidr]) => {
    const [address, prefix] = cidr.split("/") as [string, string];
    const list = new BlockList();
    list.addSubnet(address, Number(prefix), family);
    return { reason, list };
  });
}

const ipv4Rules = compile(IPV4_RULES, "ipv4");
const ipv6Rules = compile(IPV6_RULES, "ipv6");
const globalUnicast = new BlockList();
globalUnicast.addSubnet("2000::", 3, "ipv6");

/** Removes URL brackets and an IPv6 zone id (`fe80::1%eth0`). */
export function normalizeAddress(text: string): string {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone !== -1 && address.includes(":")) address = address.slice(0, zone);
  return address.toLowerCase();
}

/** Expands a valid IPv6 address (as accepted by net.isIP) into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes(".")) {
    const octets = dotted.split(".").map(Number) as [number, number, number, number];
    tail.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const parse = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const [head = "", rest] = text.split("::") as [string, string | undefined];
  let groups: number[];
  if (rest === undefined) {
    groups = parse(head);
  } else {
    const left = parse(head);
    const right = parse(rest);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length === 2) groups.splice(6, 2, tail[0]!, tail[1]!);
  return groups;
}

function ipv4FromGroups(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

type Embedding = "mapped" | "translated" | "compatible" | "nat64" | "6to4";

/** The IPv4 address an IPv6 address stands for, when it embeds one in a known way. */
function embeddedIpv4(address: string): { ipv4: string; kind: Embedding } | undefined {
  const g = ipv6Groups(address);
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroUpTo4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroUpTo4 && g4 === 0 && g5 === 0xffff)
    return { ipv4: ipv4FromGroups(g6, g7), kind: "mapped" };
  if (zeroUpTo4 && g4 === 0xffff && g5 === 0) {
    return { ipv4: ipv4FromGroups(g6, g7), kind: "translated" };
  }
  if (zeroUpTo4 && g4 === 0 && g5 === 0 && (g6 !== 0 || g7 > 1)) {
    return { ipv4: ipv4FromGroups(g6, g7), kind: "compatible" };
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return { ipv4: ipv4FromGroups(g6, g7), kind: "nat64" };
  }
  if (g0 === 0x2002) return { ipv4: ipv4FromGroups(g1, g2), kind: "6to4" };
  return undefined;
}

function matchRules(address: string, rules: readonly CompiledRule[], family: "ipv4" | "ipv6") {
  for (const rule of rules) if (rule.list.check(address, family)) return rule.reason;
  return undefined;
}

function classifyIpv4(address: string): BlockReason | undefined {
  return matchRules(address, ipv4Rules, "ipv4");
}

function classifyIpv6(address: string): BlockReason | undefined {
  const embedded = embeddedIpv4(address);
  if (embedded !== undefined) {
    const reason = classifyIpv4(embedded.ipv4);
    if (reason !== undefined) return reason;
    // A public IPv4 behind the deprecated compatible form is unroutable; the others reach it.
    return embedded.kind === "compatible" ? "reserved" : undefined;
  }
  const reason = matchRules(address, ipv6Rules, "ipv6");
  if (reason !== undefined) return reason;
  // Everything outside 2000::/3 (bar the forms above) is unallocated or special-purpose.
  return globalUnicast.check(address, "ipv6") ? undefined : "reserved";
}

/**
 * Classifies one IP address (never a hostname: resolve first). Anything that is not an IP
 * address is refused with reason `invalid`, so callers fail closed.
 */
export function classifyAddress(ip: string, options: { allow?: CidrList } = {}): AddressVerdict {
  const address = normalizeAddress(ip);
  const family = isIP(address);
  if (family === 0) return { allowed: false, address, reason: "invalid" };
  if (options.allow?.has(address)) return { allowed: true, address, allowlisted: true };
  const reason = family === 4 ? classifyIpv4(address) : classifyIpv6(address);
  return reason === undefined
    ? { allowed: true, address, allowlisted: false }
    : { allowed: false, address, reason };
}

function invalidEntry(entry: string, why: string): HeraldError {
  return new HeraldError("config.invalid", `Invalid SSRF allowlist entry "${entry}": ${why}`, {
    details: { setting: "ssrf.allow", entry },
  });
}

function parseCidr(text: string): CidrEntry {
  if (text.includes("%")) throw invalidEntry(text, "zone ids are not allowed");
  const slash = text.indexOf("/");
  const address = normalizeAddress(slash === -1 ? text : text.slice(0, slash));
  const version = isIP(address);
  if (version === 0) throw invalidEntry(text, "not an IPv4 or IPv6 address (expected a CIDR)");
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw invalidEntry(text, "the prefix length is not a number");
  const prefix = Number(prefixText);
  if (prefix > max) throw invalidEntry(text, `the prefix length must be 0..${max}`);
  return { text, address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/**
 * Parses an allowlist: comma- or whitespace-separated CIDRs (`"127.0.0.0/8, ::1/128"`) or an
 * array of them; a bare address means that one host. Throws `config.invalid` naming the entry.
 */
export function parseCidrList(input: string | readonly string[]): CidrList {
  const texts = (typeof input === "string" ? [input] : input)
    .flatMap((item) => item.split(/[\s,]+/))
    .filter((item) => item !== "");
  const entries = texts.map(parseCidr);
  const list = new BlockList();
  for (const entry of entries) list.addSubnet(entry.address, entry.prefix, entry.family);
  return {
    entries,
    has(ip: string): boolean {
      const address = normalizeAddress(ip);
      const version = isIP(address);
      if (version === 0) return false;
      // BlockList also matches IPv4-mapped IPv6 addresses against IPv4 entries.
      return list.check(address, version === 4 ? "ipv4" : "ipv6");
    },
  };
}
