import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchCapability, parseRetryAfter } from "../../runtime/capabilities/builtin/fetch.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import { capabilityContext, TEST_FETCH_ALLOW } from "./helpers.ts";

const PAGE = "<!doctype html><html><head><title>Demo</title></head><body><p>Hello, world.</p></body></html>";
const NOW = ManualClock.at("2026-11-21T10:00:00Z");

/** A local web site with one route per behaviour fetch must handle; no outside network. */
function site(): Server {
  return createServer((req, res) => {
    switch (req.url) {
      case "/page":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
        return;
      case "/missing":
        res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not found</h1>");
        return;
      case "/busy":
        res.writeHead(429, { "retry-after": "7" }).end("slow down");
        return;
      case "/busy-until":
        res.writeHead(429, { "retry-after": new Date(NOW.now() + 120_000).toUTCString() }).end();
        return;
      case "/broken":
        res.writeHead(500).end("oops");
        return;
      case "/slow":
        setTimeout(() => res.writeHead(200, { "content-type": "text/html" }).end(PAGE), 3000).unref();
        return;
      case "/slow-body":
        res.writeHead(200, { "content-type": "text/html" });
        res.write("<p>first part");
        return; // the rest never comes
      case "/huge": {
        // Streamed without a Content-Length: only counting the bytes can catch it.
        res.writeHead(200, { "content-type": "text/html" });
        const chunk = "x".repeat(16 * 1024);
        let sent = 0;
        const more = (): void => {
          while (sent < 1024 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once("drain", more);
          }
          res.end();
        };
        more();
        return;
      }
      case "/huge-declared":
        res.writeHead(200, { "content-type": "text/html", "content-length": String(50 * 1024 * 1024) });
        res.write("<p>");
        return;
      case "/redirect":
        res.writeHead(302, { location: "/page" }).end();
        return;
      case "/image":
        res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return;
      case "/latin1":
        res.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" }).end(Buffer.from("<p>caf\xe9</p>", "latin1"));
        return;
      case "/long":
        res.writeHead(200, { "content-type": "text/html" }).end("a".repeat(300));
        return;
      default:
        res.writeHead(404).end();
    }
  });
}

let server: Server;
let base: string;
const fetchCap = fetchCapability({ timeoutMs: 500, maxBytes: 256 * 1024, allow: TEST_FETCH_ALLOW });

beforeAll(async () => {
  server = site();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(url: string, ctx = capabilityContext({ clock: NOW }), cap = fetchCap): Promise<CapabilityError> {
  try {
    await cap.execute({ url }, ctx);
  } catch (err) {
    if (err instanceof CapabilityError) return err;
    throw err;
  }
  throw new Error(`fetching ${url} did not fail`);
}

describe("fetch: pages that answer", () => {
  it("returns the HTML with status, content type, domain and size", async () => {
    const out = await fetchCap.execute({ url: `${base}/page` }, capabilityContext());
    expect(out).toEqual({
      html: PAGE,
      status: 200,
      content_type: "text/html; charset=utf-8",
      domain: "127.0.0.1",
      bytes: Buffer.byteLength(PAGE),
      final_url: `${base}/page`,
      truncated: false,
      total_chars: PAGE.length,
      kept_chars: PAGE.length,
      normalized_chars: 0,
    });
  });

  it("follows redirects and says where it ended", async () => {
    const out = await fetchCap.execute({ url: `${base}/redirect` }, capabilityContext());
    expect(out.html).toBe(PAGE);
    expect(out.final_url).toBe(`${base}/page`);
  });

  it("decodes by the declared charset", async () => {
    expect((await fetchCap.execute({ url: `${base}/latin1` }, capabilityContext())).html).toBe("<p>café</p>");
  });

  it("cuts documents longer than the html limit and says so", async () => {
    const out = await fetchCapability({ maxHtmlChars: 100, allow: TEST_FETCH_ALLOW }).execute({ url: `${base}/long` }, capabilityContext());
    expect(out).toMatchObject({ html: "a".repeat(100), bytes: 300, truncated: true, total_chars: 300, kept_chars: 100 });
  });
});

describe("fetch: failures carry a code, an honest recoverable flag and the domain", () => {
  it("404 is HTTP_404, not recoverable", async () => {
    const err = await failure(`${base}/missing`);
    expect(err.toFailure()).toEqual({ code: "HTTP_404", message: `${base}/missing answered 404 Not Found`, recoverable: false, domain: "127.0.0.1" });
  });

  it("429 with Retry-After in seconds is recoverable with retry_after_ms", async () => {
    const err = await failure(`${base}/busy`);
    expect(err.toFailure()).toMatchObject({ code: "HTTP_429", recoverable: true, domain: "127.0.0.1", retry_after_ms: 7000 });
  });

  it("429 with Retry-After as an HTTP date counts from the clock", async () => {
    expect((await failure(`${base}/busy-until`)).retry_after_ms).toBe(120_000);
  });

  it("500 is recoverable", async () => {
    expect((await failure(`${base}/broken`)).toFailure()).toMatchObject({ code: "HTTP_500", recoverable: true, domain: "127.0.0.1" });
  });

  it("no response within the timeout is TIMEOUT, recoverable", async () => {
    const err = await failure(`${base}/slow`);
    expect(err.toFailure()).toEqual({ code: "TIMEOUT", message: "127.0.0.1 gave no complete response within 500 ms", recoverable: true, domain: "127.0.0.1" });
  });

  it("a body that stalls is TIMEOUT too", async () => {
    expect((await failure(`${base}/slow-body`)).code).toBe("TIMEOUT");
  });

  it("the task's deadline (the context's signal) ends it as TIMEOUT", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await failure(`${base}/slow`, capabilityContext({ signal: controller.signal }), fetchCapability({ timeoutMs: 10_000, allow: TEST_FETCH_ALLOW }));
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toContain("deadline");
  });

  it("a body over the size limit is TOO_LARGE, not recoverable, whether declared or streamed", async () => {
    const streamed = await failure(`${base}/huge`);
    expect(streamed.toFailure()).toMatchObject({ code: "TOO_LARGE", recoverable: false, domain: "127.0.0.1" });
    expect(streamed.message).toContain("262144-byte limit");
    expect((await failure(`${base}/huge-declared`)).message).toContain(`${50 * 1024 * 1024} bytes declared`);
  });

  it("a refused connection is NETWORK, recoverable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(`http://127.0.0.1:${port}/`);
    expect(err.toFailure()).toMatchObject({ code: "NETWORK", recoverable: true, domain: "127.0.0.1" });
    expect(err.message).toContain("ECONNREFUSED");
  });

  it("only http and https URLs are fetched: anything else is BAD_URL, not recoverable", async () => {
    expect((await failure("not a url")).toFailure()).toEqual({ code: "BAD_URL", message: '"not a url" is not an absolute URL', recoverable: false });
    expect((await failure("file:///etc/passwd")).message).toBe("only http and https URLs can be fetched, not file:");
    expect((await failure("ftp://example.org/x")).toFailure()).toMatchObject({ code: "BAD_URL", domain: "example.org" });
    expect((await failure("http://user:secret@example.org/")).message).toBe("URLs with credentials in them are not fetched");
  });

  it("a body that is not text is UNSUPPORTED_MEDIA_TYPE, not recoverable", async () => {
    expect((await failure(`${base}/image`)).toFailure()).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", recoverable: false });
  });
});

describe("Retry-After", () => {
  it("reads delay-seconds and HTTP dates, and ignores what it cannot read", () => {
    const now = Date.parse("2026-11-21T10:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 10:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("99999999", now)).toBe(86_400_000);
  });
});
