/**
 * The HTTP API's failure answers: what a client did wrong is a 4xx saying what to fix; an outage is
 * a 503 with Retry-After; anything else is a 500, and every 5xx is in the log with its cause.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentbusError, InfrastructureError } from "../../runtime/errors/index.ts";
import { createHttpApp } from "../../runtime/http/app.ts";
import type { RequestService } from "../../runtime/http/request-service.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, DATABASE_URL } from "../helpers/bus.ts";
import { LEVEL, memoryLogger, type LogLine } from "../helpers/log.ts";
import { httpComponent } from "../../runtime/http/component.ts";

const token = "test-token-0123456789abcdef";
const auth = { authorization: `Bearer ${token}` };
const json = { ...auth, "content-type": "application/json" };

interface Answer {
  status: number;
  headers: Headers;
  error: { code: string; message: string; issues?: Array<{ pointer: string; message: string; rule: string }> };
}

async function answer(res: Response): Promise<Answer> {
  const body = (await res.json()) as { error: Answer["error"] };
  return { status: res.status, headers: res.headers, error: body.error };
}

/** A GET with the path sent exactly as written (fetch would normalise broken percent-encoding). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "GET", headers: auth }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const fivexx = (lines: LogLine[]): LogLine[] => lines.filter((l) => typeof l.status === "number" && l.status >= 500);

describe("client mistakes against the real runtime", () => {
  const prefix = uniquePrefix("httperr");
  const schema = uniqueSchema("httperr");
  const log = memoryLogger();
  let runtime: Runtime;
  let base: string;

  beforeAll(async () => {
    const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, entryAgent: "echo_agent" });
    const http = httpComponent({ token, port: 0 });
    ({ runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, logger: log.logger, components: [http] }));
    base = http.url!;
  });

  afterAll(async () => {
    await runtime?.close();
    await dropPrefix(prefix);
    await dropSchema(schema);
  });

  it.each([
    ["a NUL character", '{"text": "What is 2+2? \\u0000"}', "/text", "NUL character (U+0000) at offset 13"],
    ["a lone surrogate", '{"text": "What is 2+2? \\ud800"}', "/text", "lone surrogate (U+D800) at offset 13"],
    ["a NUL in a ref", '{"text": "hi", "refs": ["a\\u0000b"]}', "/refs/0", "NUL character (U+0000) at offset 1"],
    ["a NUL in a key", '{"text": "hi", "k\\u0000": 1}', "/k\u0000", "key contains a NUL character"],
  ])("answers 400 naming the pointer for %s in the body (nothing is published)", async (_name, body, pointer, message) => {
    const res = await answer(await fetch(`${base}/api/requests`, { method: "POST", headers: json, body }));
    expect(res.status).toBe(400);
    expect(res.error.code).toBe("BAD_REQUEST");
    expect(res.error.issues).toEqual([expect.objectContaining({ pointer, rule: "guard", message: expect.stringContaining(message) })]);
    expect(await runtime.bus.deadLetters.count()).toBe(0);
  });

  it("answers 400 for a body nested deeper than the guard allows, without walking it", async () => {
    const body = `{"text": "hi", "refs": [${"[".repeat(50_000)}${"]".repeat(50_000)}]}`;
    const res = await answer(await fetch(`${base}/api/requests`, { method: "POST", headers: json, body }));
    expect(res.status).toBe(400);
    expect(res.error.issues?.[0]).toMatchObject({ rule: "guard", message: "nesting is deeper than 32 levels" });
  });

  it("answers 415 naming UTF-8 for an unsupported charset", async () => {
    const res = await answer(await fetch(`${base}/api/requests`, { method: "POST", headers: { ...auth, "content-type": "application/json; charset=latin1" }, body: '{"text":"hi"}' }));
    expect(res.status).toBe(415);
    expect(res.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(res.error.message).toContain('unsupported charset "latin1"');
    expect(res.error.message).toContain("charset=utf-8");
  });

  it.each(["bogus", "compress"])("answers 415 naming the supported ones for content-encoding %s", async (encoding) => {
    const res = await answer(await fetch(`${base}/api/requests`, { method: "POST", headers: { ...json, "content-encoding": encoding }, body: '{"text":"hi"}' }));
    expect(res.status).toBe(415);
    expect(res.error.message).toContain(`unsupported content-encoding "${encoding}"`);
    expect(res.error.message).toContain("gzip, deflate or br");
  });

  it("answers 400 for a body that does not decode with its content-encoding, and accepts a gzipped one", async () => {
    const broken = await fetch(`${base}/api/requests`, { method: "POST", headers: { ...json, "content-encoding": "br" }, body: '{"text":"hi"}' });
    expect(broken.status).toBe(400);
    const gz = await fetch(`${base}/api/requests`, { method: "POST", headers: { ...json, "content-encoding": "gzip" }, body: gzipSync('{"text":"zipped"}') });
    expect(gz.status).toBe(202);
  });

  it.each(["/api/sessions/%00", "/api/sessions/s-x%00y", "/api/sessions/%00/events"])("answers 400 for a NUL in the session id: %s", async (path) => {
    const res = await rawGet(base, path);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "BAD_REQUEST", message: expect.stringContaining("NUL character") } });
  });

  it.each(["/api/sessions/%E0%A4%A", "/api/sessions/%", "/api/sessions/%ZZ/events", "/api/sessions/%ED%A0%80"])("answers 400 for broken percent-encoding: %s", async (path) => {
    const res = await rawGet(base, path);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "BAD_REQUEST", message: expect.stringContaining("percent-encoding") } });
  });

  it("logged no 5xx for any of these client mistakes", () => {
    expect(fivexx(log.lines)).toEqual([]);
  });
});

/** A request service whose every call fails with `err`: outages and bugs on demand. */
function failingService(err: () => Error): RequestService {
  const fail = (): Promise<never> => Promise.reject(err());
  return { submit: fail, session: fail, workflowRecord: fail } as unknown as RequestService;
}

async function serve(service: RequestService): Promise<{ base: string; lines: LogLine[]; close: () => Promise<void> }> {
  const log = memoryLogger();
  const server: Server = createServer(createHttpApp(service, { token, logger: log.logger }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, lines: log.lines, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("outages and bugs", () => {
  it.each([
    ["STORE_UNAVAILABLE", () => new InfrastructureError("STORE_UNAVAILABLE", "Postgres is unreachable: timeout exceeded when trying to connect", { cause: new Error("timeout exceeded when trying to connect") })],
    ["REDIS_UNAVAILABLE", () => new InfrastructureError("REDIS_UNAVAILABLE", "Redis is unreachable")],
    ["AUDIT_BUFFER_FULL", () => new AgentbusError("AUDIT_BUFFER_FULL", "audit buffer is full", { recoverable: true })],
  ])("answers 503 with Retry-After for %s and logs it with its code", async (code, make) => {
    const app = await serve(failingService(make));
    try {
      for (const res of [
        await fetch(`${app.base}/api/requests`, { method: "POST", headers: json, body: '{"text":"hi"}' }),
        await fetch(`${app.base}/api/sessions/s-1`, { headers: auth }),
      ]) {
        const a = await answer(res);
        expect(a.status).toBe(503);
        expect(a.headers.get("retry-after")).toBe("5");
        expect(a.error).toMatchObject({ code, recoverable: true });
      }
      const logged = fivexx(app.lines);
      expect(logged).toHaveLength(2);
      expect(logged[0]).toMatchObject({ level: LEVEL.warn, status: 503, code, method: "POST", path: "/api/requests" });
      expect(logged[0]?.msg).toContain(code);
      if (code === "STORE_UNAVAILABLE") expect(logged[0]?.cause).toBe("timeout exceeded when trying to connect");
    } finally {
      await app.close();
    }
  });

  it("answers 500 for an unexpected error and logs it with its message and stack", async () => {
    const app = await serve(failingService(() => new TypeError("cannot read properties of undefined (reading 'x')")));
    try {
      const a = await answer(await fetch(`${app.base}/api/sessions/s-1`, { headers: auth }));
      expect(a.status).toBe(500);
      expect(a.error).toEqual({ code: "INTERNAL", message: "unexpected error; see the server log" });
      const [line] = fivexx(app.lines);
      expect(line).toMatchObject({ level: LEVEL.error, status: 500, code: "INTERNAL", method: "GET", path: "/api/sessions/s-1" });
      expect(line?.msg).toContain("cannot read properties of undefined");
      expect((line?.err as { stack?: string }).stack).toContain("TypeError");
    } finally {
      await app.close();
    }
  });

  it("answers 500 for an agentbus error no status is mapped for, without leaking its message, and logs it", async () => {
    const app = await serve(failingService(() => new AgentbusError("AUDIT_EVENT_INVALID", "secret internals")));
    try {
      const a = await answer(await fetch(`${app.base}/api/requests`, { method: "POST", headers: json, body: '{"text":"hi"}' }));
      expect(a.status).toBe(500);
      expect(a.error.message).not.toContain("secret");
      expect(fivexx(app.lines)).toEqual([expect.objectContaining({ level: LEVEL.error, code: "AUDIT_EVENT_INVALID", msg: expect.stringContaining("secret internals") })]);
    } finally {
      await app.close();
    }
  });
});
