/**
 * One guarded HTTP GET, following redirects by hand: every hop's scheme is checked, its host is
 * resolved once, every resolved address is checked by the FetchGuard, and the connection goes to
 * the address that was checked (a pinned `lookup`), so DNS cannot answer differently between the
 * check and the connect. Redirect loops and chains longer than the hop limit are refused.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Readable, pipeline } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { FETCH_REFUSED } from "../../errors/index.ts";
import { CapabilityError } from "../errors.ts";
import type { FetchGuard, ResolvedAddress } from "./fetch-guard.ts";

/** Resolves a host name to every address it has (dns.lookup with all: true by default). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })));
    });
  });

export interface GetOptions {
  guard: FetchGuard;
  resolve: Resolver;
  maxRedirects: number;
  headers: Record<string, string>;
  signal: AbortSignal;
}

export interface GetResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The decoded body (gzip, deflate and br undone). */
  body: Readable;
  /** Where the response came from after redirects. */
  url: string;
  /** The first response's raw message, to drop the connection when the body is not wanted. */
  destroy(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function guardedGet(start: URL, o: GetOptions): Promise<GetResponse> {
  const seen = new Set<string>([start.href]);
  let url = start;
  for (let hop = 0; ; hop++) {
    const domain = hostOf(url);
    const addresses = await checkedAddresses(url, o);
    const res = await send(url, addresses, o);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || typeof location !== "string" || location === "") return response(res, url);
    res.destroy();
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new CapabilityError("BAD_URL", `${url.href} redirected to "${location.slice(0, 200)}", which is not a URL`, { recoverable: false, domain });
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new CapabilityError(FETCH_REFUSED.scheme, `${url.href} redirected to a ${next.protocol} URL; only http and https are fetched`, { recoverable: false, domain });
    }
    if (next.username || next.password) throw new CapabilityError("BAD_URL", `${url.href} redirected to a URL with credentials in it, which is not fetched`, { recoverable: false, domain });
    if (seen.has(next.href)) throw new CapabilityError(FETCH_REFUSED.redirectLoop, `${url.href} redirected back to ${next.href}, a redirect loop`, { recoverable: false, domain });
    if (hop + 1 > o.maxRedirects) {
      throw new CapabilityError(FETCH_REFUSED.tooManyRedirects, `${start.href} redirected more than ${o.maxRedirects} times (last to ${next.href})`, { recoverable: false, domain });
    }
    seen.add(next.href);
    url = next;
  }
}

/** The host's addresses, every one checked (one refused address refuses the host). */
async function checkedAddresses(url: URL, o: GetOptions): Promise<[ResolvedAddress, ...ResolvedAddress[]]> {
  const hostname = hostOf(url);
  const port = portOf(url);
  const literal = isIP(hostname);
  let addresses: ResolvedAddress[];
  if (literal !== 0) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await o.resolve(hostname);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // A name that does not exist will not exist on a retry either; a failing resolver might recover.
      const missing = code === "ENOTFOUND" || code === "ENODATA";
      throw new CapabilityError("NETWORK", `could not resolve ${hostname}: ${typeof code === "string" ? code : (err as Error).message}`, { recoverable: !missing, domain: hostname, cause: err });
    }
  }
  const first = addresses[0];
  if (!first) throw new CapabilityError("NETWORK", `${hostname} resolved to no address`, { recoverable: false, domain: hostname });
  const refused = o.guard.check(hostname, port, addresses);
  if (refused) {
    const via = refused.address === hostname ? "" : ` (${hostname} resolves to ${refused.address})`;
    throw new CapabilityError(
      FETCH_REFUSED.address,
      `${url.href} is not fetched: ${refused.address} is ${refused.why}${via}; AGENTBUS_FETCH_ALLOW can allow it`,
      { recoverable: false, domain: hostname },
    );
  }
  return [first, ...addresses.slice(1)];
}

function send(url: URL, addresses: [ResolvedAddress, ...ResolvedAddress[]], o: GetOptions): Promise<IncomingMessage> {
  const hostname = hostOf(url);
  // The connection goes to the checked addresses, whatever DNS would say now.
  const pinned: LookupFunction = (_host, options, callback) => {
    // Node types the callback for one address; with `all` it is called with the list.
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
  const https = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)({
      hostname,
      port: portOf(url),
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: { ...o.headers, host: url.host },
      signal: o.signal,
      lookup: pinned,
      // One connection per hop: no pooled socket outlives the task or skips the check.
      agent: false,
      ...(https && isIP(hostname) === 0 ? { servername: hostname } : {}),
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
}

function response(res: IncomingMessage, url: URL): GetResponse {
  const encoding = String(res.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder = encoding === "gzip" || encoding === "x-gzip" ? createGunzip() : encoding === "deflate" ? createInflate() : encoding === "br" ? createBrotliDecompress() : null;
  // pipeline() returns its last stream (the decoder), typed only as a writable destination.
  const body = decoder ? (pipeline(res, decoder, () => undefined) as unknown as Readable) : res;
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? "",
    headers: res.headers,
    body,
    url: url.href,
    destroy: () => {
      res.destroy();
      decoder?.destroy();
    },
  };
}

/** Lowercase host name without IPv6 brackets, as the action_result's `domain` wants it. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}
