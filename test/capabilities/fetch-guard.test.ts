/**
 * fetch reaches only what it may: loopback, private, link-local and metadata addresses are refused
 * by default, after DNS and on every redirect, with non-recoverable codes of their own; an
 * allow-list lets a deployment (and these tests) reach local servers; the connection goes to the
 * address that was checked.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchCapability, type FetchOptions } from "../../runtime/capabilities/builtin/fetch.ts";
import { parseFetchAllow, refusedRange } from "../../runtime/capabilities/builtin/fetch-guard.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { executeTask } from "../../runtime/capabilities/execute.ts";
import { CapabilityRegistry } from "../../runtime/capabilities/registry.ts";
import { loadConfig } from "../../runtime/config/config.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { ConfigError } from "../../runtime/errors/index.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { capabilityContext } from "./helpers.ts";

const PAGE = "<html><head><title>ok</title></head><body>ok</body></html>";
const REDIS_PORT = Number(new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").port || 6379);

let site: Server;
let other: Server;
let port: number;
let otherPort: number;
let otherHits = 0;
let siteHits = 0;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  other = createServer((_req, res) => {
    otherHits++;
    res.writeHead(200, { "content-type": "text/html" }).end("internal secrets");
  });
  otherPort = await listen(other);
  site = createServer((req, res) => {
    siteHits++;
    const url = req.url ?? "/";
    const redirect = (to: string): void => void res.writeHead(302, { location: to }).end();
    if (url === "/page") res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    else if (url === "/to-redis") redirect(`http://127.0.0.1:${REDIS_PORT}/`);
    else if (url === "/to-other") redirect(`http://127.0.0.1:${otherPort}/`);
    else if (url === "/to-metadata") redirect("http://169.254.169.254/latest/meta-data/");
    else if (url === "/to-file") redirect("file:///etc/passwd");
    else if (url === "/loop-a") redirect("/loop-b");
    else if (url === "/loop-b") redirect("/loop-a");
    else if (url.startsWith("/chain/")) redirect(`/chain/${Number(url.slice(7)) + 1}`);
    else if (url === "/to-page") redirect("/page");
    else res.writeHead(404).end();
  });
  port = await listen(site);
});

afterAll(async () => {
  for (const s of [site, other]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function failure(url: string, options: FetchOptions = {}): Promise<CapabilityError> {
  try {
    await fetchCapability({ timeoutMs: 2000, ...options }).execute({ url }, capabilityContext());
  } catch (err) {
    if (err instanceof CapabilityError) return err;
    throw err;
  }
  throw new Error(`fetching ${url} did not fail`);
}

/** Only the test site's own port is allowed: every other local port stays refused. */
const SITE_ONLY = (): FetchOptions => ({ allow: parseFetchAllow(`127.0.0.1:${port}`) });

describe("fetch refuses local and private addresses by default", () => {
  it("does not reach Redis on loopback: FETCH_ADDRESS_REFUSED, not recoverable, before any connection", async () => {
    const err = await failure(`http://127.0.0.1:${REDIS_PORT}/`);
    expect(err.toFailure()).toMatchObject({ code: "FETCH_ADDRESS_REFUSED", recoverable: false, domain: "127.0.0.1" });
    expect(err.message).toContain("loopback");
    const before = siteHits;
    expect((await failure(`http://127.0.0.1:${port}/page`)).code).toBe("FETCH_ADDRESS_REFUSED");
    expect(siteHits).toBe(before);
  });

  it.each([
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:7f00:1]/", "loopback"],
    ["http://[::1]/", "loopback"],
    ["http://0.0.0.0/", "unspecified"],
    ["http://10.1.2.3/", "private"],
    ["http://172.20.0.1/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[fd12:3456::1]/", "private"],
    ["http://100.64.0.1/", "carrier-grade NAT"],
    ["http://2130706433/", "loopback"], // 127.0.0.1 written as one number: URL parsing normalises it
  ])("refuses %s (%s)", async (url, why) => {
    const err = await failure(url);
    expect(err.code).toBe("FETCH_ADDRESS_REFUSED");
    expect(err.recoverable).toBe(false);
    expect(err.message).toContain(why);
  });

  it("checks the addresses a name resolves to: one private address among public ones refuses the host", async () => {
    const resolve = async (host: string) => (host === "intranet.example" ? [{ address: "93.184.216.34", family: 4 as const }, { address: "10.0.0.5", family: 4 as const }] : []);
    const err = await failure("http://intranet.example/", { resolve });
    expect(err.toFailure()).toMatchObject({ code: "FETCH_ADDRESS_REFUSED", recoverable: false, domain: "intranet.example" });
    expect(err.message).toContain("intranet.example resolves to 10.0.0.5");
  });

  it("refuses localhost through the system resolver", async () => {
    expect((await failure(`http://localhost:${port}/page`)).code).toBe("FETCH_ADDRESS_REFUSED");
  });

  it("knows public addresses from refused ones", () => {
    expect(refusedRange("93.184.216.34")).toBeNull();
    expect(refusedRange("2606:4700::1111")).toBeNull();
    expect(refusedRange("::ffff:8.8.8.8")).toBeNull();
    expect(refusedRange("169.254.169.254")).toContain("metadata");
  });
});

describe("every redirect hop is checked", () => {
  it("a redirect to Redis on loopback is refused, not followed", async () => {
    const err = await failure(`http://127.0.0.1:${port}/to-redis`, SITE_ONLY());
    expect(err.toFailure()).toMatchObject({ code: "FETCH_ADDRESS_REFUSED", recoverable: false });
    expect(err.message).toContain(`127.0.0.1:${REDIS_PORT}`);
  });

  it("a redirect to another local service is refused and that service gets no request", async () => {
    const before = otherHits;
    expect((await failure(`http://127.0.0.1:${port}/to-other`, SITE_ONLY())).code).toBe("FETCH_ADDRESS_REFUSED");
    expect((await failure(`http://127.0.0.1:${port}/to-metadata`, SITE_ONLY())).code).toBe("FETCH_ADDRESS_REFUSED");
    expect(otherHits).toBe(before);
  });

  it("a redirect to file: is FETCH_SCHEME_REFUSED, not recoverable (it was a recoverable NETWORK error)", async () => {
    const err = await failure(`http://127.0.0.1:${port}/to-file`, SITE_ONLY());
    expect(err.toFailure()).toMatchObject({ code: "FETCH_SCHEME_REFUSED", recoverable: false, domain: "127.0.0.1" });
  });

  it("a redirect loop is FETCH_REDIRECT_LOOP and an endless chain FETCH_TOO_MANY_REDIRECTS, neither recoverable", async () => {
    expect((await failure(`http://127.0.0.1:${port}/loop-a`, SITE_ONLY())).toFailure()).toMatchObject({ code: "FETCH_REDIRECT_LOOP", recoverable: false });
    const chain = await failure(`http://127.0.0.1:${port}/chain/1`, { ...SITE_ONLY(), maxRedirects: 3 });
    expect(chain.toFailure()).toMatchObject({ code: "FETCH_TOO_MANY_REDIRECTS", recoverable: false });
    expect(chain.message).toContain("more than 3 times");
  });

  it("allowed redirects are followed and say where they ended", async () => {
    const out = await fetchCapability(SITE_ONLY()).execute({ url: `http://127.0.0.1:${port}/to-page` }, capabilityContext());
    expect(out).toMatchObject({ html: PAGE, final_url: `http://127.0.0.1:${port}/page`, status: 200 });
  });

  it("the action agent's executor reports a refusal as a non-recoverable failure with its code", async () => {
    const catalog = new CapabilityRegistry([fetchCapability()]);
    const out = await executeTask(catalog, { capability: "fetch", inputs: { url: "http://169.254.169.254/" } }, { clock: systemClock, logger: silentLogger(), llm: null });
    expect(out.error).toMatchObject({ code: "FETCH_ADDRESS_REFUSED", recoverable: false, domain: "169.254.169.254" });
  });
});

describe("the connection goes to the address that was checked", () => {
  it("resolves each host once and connects to that address (a name system DNS does not know still works)", async () => {
    const calls: string[] = [];
    // The first answer is checked and pinned; a rebinding resolver answering 10.0.0.1 next time is never asked again.
    const answers = [[{ address: "127.0.0.1", family: 4 as const }], [{ address: "10.0.0.1", family: 4 as const }]];
    const resolve = async (host: string) => {
      calls.push(host);
      return answers[Math.min(calls.length - 1, 1)] ?? [];
    };
    const out = await fetchCapability({ allow: parseFetchAllow(`pinned.test:${port}`), resolve }).execute({ url: `http://pinned.test:${port}/page` }, capabilityContext());
    expect(out.html).toBe(PAGE);
    expect(calls).toEqual(["pinned.test"]);
  });
});

describe("AGENTBUS_FETCH_ALLOW", () => {
  it("reads hosts, ports, port ranges and CIDR ranges", () => {
    const entries = parseFetchAllow("localhost, 127.0.0.1:4400-4402,[::1]:8080, 10.0.0.0/8, [fd00::/8]:443, Example.org:80");
    expect(entries.map((e) => ({ kind: e.kind, name: e.name, address: e.address, prefix: e.prefix, ports: e.ports }))).toEqual([
      { kind: "name", name: "localhost", address: undefined, prefix: undefined, ports: undefined },
      { kind: "range", name: undefined, address: "127.0.0.1", prefix: 32, ports: { from: 4400, to: 4402 } },
      { kind: "range", name: undefined, address: "::1", prefix: 128, ports: { from: 8080, to: 8080 } },
      { kind: "range", name: undefined, address: "10.0.0.0", prefix: 8, ports: undefined },
      { kind: "range", name: undefined, address: "fd00::", prefix: 8, ports: { from: 443, to: 443 } },
      { kind: "name", name: "example.org", address: undefined, prefix: undefined, ports: { from: 80, to: 80 } },
    ]);
  });

  it("allows exactly the ports listed", async () => {
    const allow = parseFetchAllow(`127.0.0.1:${port}-${port}`);
    expect((await fetchCapability({ allow }).execute({ url: `http://127.0.0.1:${port}/page` }, capabilityContext())).html).toBe(PAGE);
    expect((await failure(`http://127.0.0.1:${otherPort}/`, { allow })).code).toBe("FETCH_ADDRESS_REFUSED");
  });

  it("is read through the runtime configuration and a bad entry is a ConfigError naming it", () => {
    expect(loadConfig({}).fetchAllow).toEqual([]);
    expect(loadConfig({ AGENTBUS_FETCH_ALLOW: "127.0.0.1:4400" }).fetchAllow).toHaveLength(1);
    for (const bad of ["127.0.0.1:99999", "10.0.0.0/33", "not a host", "localhost:80-70", "example.org/8"]) {
      expect(() => loadConfig({ AGENTBUS_FETCH_ALLOW: bad })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ AGENTBUS_FETCH_ALLOW: "ok.example, bad host" })).toThrow(/"bad host"/);
  });
});
