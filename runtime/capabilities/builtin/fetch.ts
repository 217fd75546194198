/**
 * fetch: HTTP GET of one http(s) URL with a timeout and a streaming size limit. Failures become
 * stable codes with an honest `recoverable` flag, and the domain is recorded on every outcome:
 * HTTP_<status> (429, 408 and 5xx recoverable, with Retry-After → retry_after_ms; other statuses
 * not), TIMEOUT (recoverable), TOO_LARGE (not), NETWORK (recoverable), BAD_URL (not),
 * UNSUPPORTED_MEDIA_TYPE (not: the body is not text).
 */
import { CapabilityError } from "../errors.ts";
import type { Capability, CapabilityContext } from "../types.ts";

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
}

export const FETCH_DEFAULTS = { timeoutMs: 10_000, maxBytes: 2 * 1024 * 1024, maxHtmlChars: 200_000, userAgent: "agentbus/0.1 (+https://github.com/agentbus)" } as const;

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
  truncated: boolean;
}

/** Longest wait a Retry-After may ask for that we pass on (the action_result schema's maximum). */
const MAX_RETRY_AFTER_MS = 86_400_000;
const TEXTUAL = /^(text\/[\w.+-]+|application\/(xhtml\+xml|xml|json|[\w.+-]+\+xml|[\w.+-]+\+json))$/;

export function fetchCapability(options: FetchOptions = {}): Capability<FetchInput, FetchOutput> {
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  const maxHtmlChars = options.maxHtmlChars ?? FETCH_DEFAULTS.maxHtmlChars;
  const userAgent = options.userAgent ?? FETCH_DEFAULTS.userAgent;
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
      required: ["html", "status", "content_type", "domain", "bytes", "final_url", "truncated"],
      properties: {
        html: { type: "string", maxLength: maxHtmlChars },
        status: { type: "integer", minimum: 100, maximum: 599 },
        content_type: { type: "string" },
        domain: { type: "string" },
        bytes: { type: "integer", minimum: 0 },
        final_url: { type: "string" },
        truncated: { type: "boolean" },
      },
    },
    execute: (input, ctx) => get(input.url, ctx, { timeoutMs, maxBytes, maxHtmlChars, userAgent }),
  };
}

async function get(raw: string, ctx: CapabilityContext, o: Required<FetchOptions>): Promise<FetchOutput> {
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

  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: "follow", headers: { accept: "text/html,application/xhtml+xml;q=0.9,text/*;q=0.8,*/*;q=0.5", "user-agent": o.userAgent } });
  } catch (err) {
    throw fail(err);
  }
  try {
    if (!res.ok) throw statusError(res, url, domain, ctx.clock.now());
    const contentType = res.headers.get("content-type") ?? "";
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    if (mediaType !== "" && !TEXTUAL.test(mediaType)) {
      throw new CapabilityError("UNSUPPORTED_MEDIA_TYPE", `${url.href} is ${mediaType}, not a text document`, { recoverable: false, domain });
    }
    const declared = Number(res.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > o.maxBytes) throw tooLarge(url, domain, o.maxBytes, `${declared} bytes declared`);
    const body = await readLimited(res, o.maxBytes, () => tooLarge(url, domain, o.maxBytes, "more arrived"));
    const text = decode(body, contentType);
    const truncated = text.length > o.maxHtmlChars;
    return {
      html: truncated ? text.slice(0, o.maxHtmlChars) : text,
      status: res.status,
      content_type: contentType,
      domain,
      bytes: body.byteLength,
      final_url: res.url || url.href,
      truncated,
    };
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    throw fail(err);
  }
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

/** Lowercase host name without IPv6 brackets, as the action_result's `domain` wants it. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function statusError(res: Response, url: URL, domain: string, now: number): CapabilityError {
  const s = res.status;
  const recoverable = s === 429 || s === 408 || s >= 500;
  const retryAfter = recoverable ? parseRetryAfter(res.headers.get("retry-after"), now) : undefined;
  const wait = retryAfter !== undefined ? ` (Retry-After: ${retryAfter} ms)` : "";
  return new CapabilityError(`HTTP_${s}`, `${url.href} answered ${s}${res.statusText ? ` ${res.statusText}` : ""}${wait}`, {
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

function tooLarge(url: URL, domain: string, maxBytes: number, detail: string): CapabilityError {
  return new CapabilityError("TOO_LARGE", `${url.href} is larger than the ${maxBytes}-byte limit (${detail})`, { recoverable: false, domain });
}

async function readLimited(res: Response, maxBytes: number, onTooLarge: () => Error): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw onTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
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
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return `${cause.code}${typeof cause.message === "string" ? ` (${cause.message})` : ""}`;
  if (cause && typeof cause.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
