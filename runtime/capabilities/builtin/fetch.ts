/**
 * fetch: HTTP GET of one http(s) URL with a timeout and a streaming size limit, through the fetch
 * guard (fetch-guard.ts: no loopback, private, link-local or metadata addresses unless allowed,
 * checked after DNS and on every redirect). Failures become stable codes with an honest
 * `recoverable` flag, and the domain is recorded on every outcome: HTTP_<status> (429, 408 and 5xx
 * recoverable, with Retry-After → retry_after_ms; other statuses not), TIMEOUT (recoverable),
 * TOO_LARGE (not), NETWORK (recoverable, except a name that does not exist), BAD_URL (not),
 * UNSUPPORTED_MEDIA_TYPE (not: the body is not text), FETCH_ADDRESS_REFUSED, FETCH_SCHEME_REFUSED,
 * FETCH_REDIRECT_LOOP, FETCH_TOO_MANY_REDIRECTS (none recoverable).
 */
import type { Readable } from "node:stream";
import { normalizeText } from "../../envelope/text.ts";
import { CapabilityError } from "../errors.ts";
import type { Capability, CapabilityContext } from "../types.ts";
import { FetchGuard, type FetchAllowList } from "./fetch-guard.ts";
import { guardedGet, hostOf, systemResolver, type GetResponse, type Resolver } from "./http-get.ts";

export interface FetchOptions {
  /** Time for the whole response, headers and body (default 10 s). */
  timeoutMs?: number;
  /** Largest body accepted, counted as it streams in (default 2 MiB). */
  maxBytes?: number;
  /**
   * Longest `html` handed on (default 200 000 characters, the longest string a message may carry);
   * longer documents are cut and flagged `truncated: true`.
   */
  maxHtmlChars?: number;
  userAgent?: string;
  /** What the guard lets through of the ranges it refuses by default (AGENTBUS_FETCH_ALLOW). */
  allow?: FetchAllowList;
  /** How host names are resolved (default dns.lookup, all addresses); tests inject one. */
  resolve?: Resolver;
  /** Redirects followed before FETCH_TOO_MANY_REDIRECTS (default 5). */
  maxRedirects?: number;
  /** Tasks of this capability running at once in one process, in all and per domain (lanes.ts). */
  lanes?: { max: number; perDomain: number };
}

export const FETCH_DEFAULTS = {
  timeoutMs: 10_000,
  maxBytes: 2 * 1024 * 1024,
  maxHtmlChars: 200_000,
  userAgent: "agentbus/0.1 (+https://github.com/agentbus)",
  maxRedirects: 5,
  lanes: { max: 6, perDomain: 4 },
} as const;

interface ResolvedOptions {
  timeoutMs: number;
  maxBytes: number;
  maxHtmlChars: number;
  userAgent: string;
  guard: FetchGuard;
  resolve: Resolver;
  maxRedirects: number;
}

export interface FetchInput extends Record<string, unknown> {
  url: string;
}

export interface FetchOutput extends Record<string, unknown> {
  html: string;
  status: number;
  content_type: string;
  domain: string;
  /** Body size in bytes as received (after content decoding). */
  bytes: number;
  /** Where the response came from after redirects. */
  final_url: string;
  /** The document was longer than the html limit and was cut to it. */
  truncated: boolean;
  /** Length of the decoded document before any cut. */
  total_chars: number;
  /** Characters handed on in `html` (what every later task reads; the cut point when truncated). */
  kept_chars: number;
  /** Characters removed (NUL) or replaced (lone surrogates) before the page entered a message. */
  normalized_chars: number;
}

/** Longest wait a Retry-After may ask for that we pass on (the action_result schema's maximum). */
const MAX_RETRY_AFTER_MS = 86_400_000;
const TEXTUAL = /^(text\/[\w.+-]+|application\/(xhtml\+xml|xml|json|[\w.+-]+\+xml|[\w.+-]+\+json))$/;

export function fetchCapability(options: FetchOptions = {}): Capability<FetchInput, FetchOutput> {
  const maxHtmlChars = options.maxHtmlChars ?? FETCH_DEFAULTS.maxHtmlChars;
  const resolved: ResolvedOptions = {
    timeoutMs: options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs,
    maxBytes: options.maxBytes ?? FETCH_DEFAULTS.maxBytes,
    maxHtmlChars,
    userAgent: options.userAgent ?? FETCH_DEFAULTS.userAgent,
    guard: new FetchGuard(options.allow ?? []),
    resolve: options.resolve ?? systemResolver,
    maxRedirects: options.maxRedirects ?? FETCH_DEFAULTS.maxRedirects,
  };
  return {
    name: "fetch",
    description: "Retrieves a web page (HTTP GET of an http or https URL) and returns its HTML.",
    consumes: { url: "url" },
    produces: { html: "html" },
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      properties: { url: { type: "string", minLength: 1, maxLength: 2048, description: "An absolute http or https URL." } },
    },
    outputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["html", "status", "content_type", "domain", "bytes", "final_url", "truncated", "total_chars", "kept_chars", "normalized_chars"],
      properties: {
        html: { type: "string", maxLength: maxHtmlChars },
        status: { type: "integer", minimum: 100, maximum: 599 },
        content_type: { type: "string" },
        domain: { type: "string" },
        bytes: { type: "integer", minimum: 0 },
        final_url: { type: "string" },
        truncated: { type: "boolean" },
        total_chars: { type: "integer", minimum: 0 },
        kept_chars: { type: "integer", minimum: 0 },
        normalized_chars: { type: "integer", minimum: 0 },
      },
    },
    lanes: options.lanes ?? FETCH_DEFAULTS.lanes,
    execute: (input, ctx) => get(input.url, ctx, resolved),
  };
}

async function get(raw: string, ctx: CapabilityContext, o: ResolvedOptions): Promise<FetchOutput> {
  const url = parseUrl(raw);
  const domain = hostOf(url);
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const fail = (err: unknown): CapabilityError => {
    if (err instanceof CapabilityError) return err;
    if (ctx.signal.aborted) return new CapabilityError("TIMEOUT", `the task's deadline passed while fetching ${url.href}`, { recoverable: true, domain, cause: err });
    if (timeout.aborted) return new CapabilityError("TIMEOUT", `${domain} gave no complete response within ${o.timeoutMs} ms`, { recoverable: true, domain, cause: err });
    return new CapabilityError("NETWORK", `could not fetch ${url.href}: ${describe(err)}`, { recoverable: true, domain, cause: err });
  };

  let res: GetResponse;
  try {
    res = await guardedGet(url, {
      guard: o.guard,
      resolve: o.resolve,
      maxRedirects: o.maxRedirects,
      signal,
      headers: { accept: "text/html,application/xhtml+xml;q=0.9,text/*;q=0.8,*/*;q=0.5", "accept-encoding": "gzip, deflate, br", "user-agent": o.userAgent },
    });
  } catch (err) {
    throw fail(err);
  }
  try {
    if (res.status < 200 || res.status > 299) throw statusError(res, domain, ctx.clock.now());
    const contentType = header(res, "content-type");
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    if (mediaType !== "" && !TEXTUAL.test(mediaType)) {
      throw new CapabilityError("UNSUPPORTED_MEDIA_TYPE", `${res.url} is ${mediaType}, not a text document`, { recoverable: false, domain: domain });
    }
    const declared = Number(header(res, "content-length") || Number.NaN);
    if (Number.isFinite(declared) && declared > o.maxBytes) throw tooLarge(res.url, domain, o.maxBytes, `${declared} bytes declared`);
    const body = await readLimited(res.body, o.maxBytes, signal, () => tooLarge(res.url, domain, o.maxBytes, "more arrived"));
    // A page may carry NUL bytes (or a decoder may meet broken text): what was fetched is normalised
    // before it enters a message, and the output says how much (text.ts has the rule).
    const { text, changed } = normalizeText(decode(body, contentType));
    const truncated = text.length > o.maxHtmlChars;
    const html = truncated ? text.slice(0, o.maxHtmlChars) : text;
    return {
      html,
      status: res.status,
      content_type: contentType,
      domain: domain,
      bytes: body.byteLength,
      final_url: res.url,
      truncated,
      total_chars: text.length,
      kept_chars: html.length,
      normalized_chars: changed,
    };
  } catch (err) {
    res.destroy();
    throw fail(err);
  }
}

function header(res: GetResponse, name: string): string {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(", ") : (v ?? "");
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CapabilityError("BAD_URL", `"${raw.slice(0, 200)}" is not an absolute URL`, { recoverable: false });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CapabilityError("BAD_URL", `only http and https URLs can be fetched, not ${url.protocol.slice(0, -1)}:`, { recoverable: false, domain: hostOf(url) });
  }
  if (url.username || url.password) {
    throw new CapabilityError("BAD_URL", "URLs with credentials in them are not fetched", { recoverable: false, domain: hostOf(url) });
  }
  return url;
}

function statusError(res: GetResponse, domain: string, now: number): CapabilityError {
  const s = res.status;
  const recoverable = s === 429 || s === 408 || s >= 500;
  const retryAfter = recoverable ? parseRetryAfter(header(res, "retry-after") || null, now) : undefined;
  const wait = retryAfter !== undefined ? ` (Retry-After: ${retryAfter} ms)` : "";
  return new CapabilityError(`HTTP_${s}`, `${res.url} answered ${s}${res.statusText ? ` ${res.statusText}` : ""}${wait}`, {
    recoverable,
    domain,
    ...(retryAfter !== undefined ? { retry_after_ms: retryAfter } : {}),
  });
}

/** Retry-After as delay-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

function tooLarge(url: string, domain: string, maxBytes: number, detail: string): CapabilityError {
  return new CapabilityError("TOO_LARGE", `${url} is larger than the ${maxBytes}-byte limit (${detail})`, { recoverable: false, domain });
}

async function readLimited(body: Readable, maxBytes: number, signal: AbortSignal, onTooLarge: () => Error): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    signal.throwIfAborted();
    const c = chunk as Buffer;
    total += c.byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw onTooLarge();
    }
    chunks.push(c);
  }
  signal.throwIfAborted();
  return new Uint8Array(Buffer.concat(chunks, total));
}

/** Decodes by the header's charset, else a <meta charset> near the top, else UTF-8. */
function decode(body: Uint8Array, contentType: string): string {
  const declared = /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType)?.[1];
  const sniffed = declared ?? /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(new TextDecoder("latin1").decode(body.subarray(0, 2048)))?.[1];
  try {
    return new TextDecoder(sniffed ?? "utf-8").decode(body);
  } catch {
    return new TextDecoder("utf-8").decode(body);
  }
}

function describe(err: unknown): string {
  const own = err as { code?: unknown; message?: unknown };
  if (typeof own.code === "string" && own.code !== "ABORT_ERR") return `${own.code}${typeof own.message === "string" ? ` (${own.message})` : ""}`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return `${cause.code}${typeof cause.message === "string" ? ` (${cause.message})` : ""}`;
  if (cause && typeof cause.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}

export { hostOf };
