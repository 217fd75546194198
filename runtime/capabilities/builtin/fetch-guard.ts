/**
 * Which addresses fetch may connect to. A URL from a request (or a page's redirect) must not reach
 * the machine's own services (Redis, Postgres, the HTTP API), the private network or a cloud
 * metadata endpoint, so by default loopback, private, link-local (169.254.169.254 included),
 * carrier-grade NAT, multicast and reserved ranges are refused. The check runs on the addresses the
 * host name resolves to, and fetch then connects to the address checked (see http-get.ts), so a
 * name that resolves differently a moment later (DNS rebinding) cannot slip through.
 *
 * An allow-list (AGENTBUS_FETCH_ALLOW) lets a deployment reach what it means to: entries are
 * separated by commas, each one of
 *   host          a name or an IP address, any port             localhost, 127.0.0.1, [::1]
 *   host:port     one port, or a range                          127.0.0.1:4400-4402, [::1]:8080
 *   cidr          an address range, optionally with port(s)     127.0.0.0/8, 10.0.0.0/8:443, [fd00::/8]:80
 * A name entry matches the URL's host name; an address or range matches the resolved address.
 */
import { BlockList, isIP } from "node:net";
import { ConfigError } from "../../errors/index.ts";

export interface FetchAllowEntry {
  /** The text the entry was written as (for messages). */
  source: string;
  kind: "name" | "range";
  /** Lowercase host name (kind "name"). */
  name?: string;
  /** The range (kind "range"); a single address is a /32 or /128. */
  address?: string;
  prefix?: number;
  family?: "ipv4" | "ipv6";
  /** Inclusive port range; absent: any port. */
  ports?: { from: number; to: number };
}

export type FetchAllowList = readonly FetchAllowEntry[];

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type RefusalReason = { address: string; why: string };

// Ranges refused unless allowed, with the words a refusal uses.
const REFUSED: ReadonlyArray<{ label: string; v4?: string[]; v6?: string[] }> = [
  { label: "a loopback address", v4: ["127.0.0.0/8"], v6: ["::1/128"] },
  { label: "an unspecified or 'this network' address", v4: ["0.0.0.0/8"], v6: ["::/128"] },
  { label: "a private address", v4: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], v6: ["fc00::/7"] },
  { label: "a link-local address (cloud metadata endpoints such as 169.254.169.254 live here)", v4: ["169.254.0.0/16"], v6: ["fe80::/10", "fec0::/10"] },
  { label: "a carrier-grade NAT address", v4: ["100.64.0.0/10"] },
  { label: "a multicast address", v4: ["224.0.0.0/4"], v6: ["ff00::/8"] },
  {
    label: "a reserved or documentation address",
    v4: ["192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4"],
    v6: ["100::/64", "2001:db8::/32"],
  },
];

const refusedLists = REFUSED.map((r) => {
  const list = new BlockList();
  for (const c of r.v4 ?? []) addRange(list, c, "ipv4");
  for (const c of r.v6 ?? []) addRange(list, c, "ipv6");
  return { label: r.label, list };
});

function addRange(list: BlockList, cidr: string, family: "ipv4" | "ipv6"): void {
  const [net = "", bits = ""] = cidr.split("/");
  list.addSubnet(net, Number(bits), family);
}

/**
 * The IPv4 address an IPv6 address carries (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d), so
 * ::ffff:127.0.0.1 is judged as 127.0.0.1; the address itself otherwise.
 */
export function embeddedIpv4(address: string): string {
  const a = address.toLowerCase();
  const m = /^(?:::ffff:|64:ff9b::)(?:0:)?(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (m?.[1]) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex?.[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

/** Why an address is refused by default ("a loopback address"), or null when it is public. */
export function refusedRange(address: string): string | null {
  const plain = embeddedIpv4(address);
  const family = isIP(plain) === 6 ? "ipv6" : "ipv4";
  for (const r of refusedLists) if (r.list.check(plain, family)) return r.label;
  return null;
}

export class FetchGuard {
  private readonly ranges: Array<{ entry: FetchAllowEntry; list: BlockList }>;

  constructor(readonly allow: FetchAllowList = []) {
    this.ranges = allow
      .filter((e) => e.kind === "range")
      .map((entry) => {
        const list = new BlockList();
        list.addSubnet(entry.address ?? "", entry.prefix ?? 0, entry.family ?? "ipv4");
        return { entry, list };
      });
  }

  /** The first address the guard refuses for this host and port, or null when all may be reached. */
  check(hostname: string, port: number, addresses: readonly ResolvedAddress[]): RefusalReason | null {
    const host = hostname.toLowerCase();
    if (this.allow.some((e) => e.kind === "name" && e.name === host && portMatches(e, port))) return null;
    for (const a of addresses) {
      const why = refusedRange(a.address);
      if (why === null || this.allowsAddress(a.address, port)) continue;
      return { address: a.address, why };
    }
    return null;
  }

  private allowsAddress(address: string, port: number): boolean {
    const candidates = [address, embeddedIpv4(address)];
    return this.ranges.some(({ entry, list }) => portMatches(entry, port) && candidates.some((c) => list.check(c, isIP(c) === 6 ? "ipv6" : "ipv4")));
  }
}

function portMatches(entry: FetchAllowEntry, port: number): boolean {
  return !entry.ports || (port >= entry.ports.from && port <= entry.ports.to);
}

const NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/;

/**
 * Reads AGENTBUS_FETCH_ALLOW. Throws ConfigError naming the entry that cannot be read, so a typo
 * does not silently leave a host unreachable (or reachable).
 */
export function parseFetchAllow(raw: string | undefined, variable = "AGENTBUS_FETCH_ALLOW"): FetchAllowEntry[] {
  if (raw === undefined || raw.trim() === "") return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((source) => {
      const entry = parseEntry(source);
      if (typeof entry === "string") throw new ConfigError(`${variable}: "${source}" ${entry} (expected host, host:port, host:port-port or a CIDR range such as 10.0.0.0/8; IPv6 in brackets with a port: [::1]:8080)`);
      return entry;
    });
}

function parseEntry(source: string): FetchAllowEntry | string {
  let host = source.toLowerCase();
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1] ?? "";
    portText = bracketed[2];
  } else if ((host.match(/:/g) ?? []).length === 1) {
    [host = "", portText] = host.split(":");
  } else if (host.includes(":") && !isIP(host.split("/")[0] ?? "")) {
    return "is not readable";
  }
  let ports: { from: number; to: number } | undefined;
  if (portText !== undefined) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portText);
    const from = Number(m?.[1]);
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < 1 || to > 65535 || to < from) return `has an unreadable port "${portText}"`;
    ports = { from, to };
  }
  const withPorts = ports ? { ports } : {};
  const [address = "", bits] = host.split("/");
  const family = isIP(address);
  if (family !== 0) {
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) return `has an unreadable prefix length "/${bits ?? ""}"`;
    return { source, kind: "range", address, prefix, family: family === 4 ? "ipv4" : "ipv6", ...withPorts };
  }
  if (bits !== undefined) return "is not a CIDR range (the address before / is not an IP address)";
  if (!NAME.test(host)) return "is not a host name";
  return { source, kind: "name", name: host.replace(/\.$/, ""), ...withPorts };
}
