/** The HTTP API as a client sees it: token required, bodies validated, sessions readable and followable. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, DATABASE_URL } from "../helpers/bus.ts";
import { httpComponent } from "../../runtime/http/component.ts";

const prefix = uniquePrefix("http");
const schema = uniqueSchema("http");
const token = "test-token-0123456789abcdef";
let runtime: Runtime;
let base: string;

beforeAll(async () => {
  const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, entryAgent: "echo_agent" });
  const http = httpComponent({ token, port: 0 });
  ({ runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, components: [http] }));
  runtime.startAgents(["echo_agent"]);
  base = http.url!;
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const post = (body: string, headers: Record<string, string> = auth) => fetch(`${base}/api/requests`, { method: "POST", headers, body });

async function finished(sessionId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${base}/api/sessions/${sessionId}`, { headers: auth });
    if (res.status === 200) {
      const view = (await res.json()) as Record<string, unknown>;
      if (view.finished_at) return view;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`session ${sessionId} did not finish`);
}

describe("authentication", () => {
  it("refuses requests without the token, or with a wrong one", async () => {
    const none = await post(JSON.stringify({ text: "hi" }), { "content-type": "application/json" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    const wrong = await post(JSON.stringify({ text: "hi" }), { authorization: "Bearer nope", "content-type": "application/json" });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${base}/api/sessions/s-x`)).status).toBe(401);
  });

  it("leaves the health check open, and it reports the store, Redis and the audit log", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, store: { available: true }, redis: { available: true }, audit: { accepting: true }, paused_agents: [] });
  });

  it("answers 503 with the cause while a delivery found the store away, and 200 once it is back", async () => {
    runtime.outages.report("store", new Error("connect ECONNREFUSED 127.0.0.1:5432 (test)"));
    const down = await fetch(`${base}/healthz`);
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(await down.json()).toMatchObject({ ok: false, store: { available: false, last_error: expect.stringContaining("ECONNREFUSED") } });
    // The monitor's probe (SELECT 1) finds the store answering and ends the outage.
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${base}/healthz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error("health did not recover");
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

describe("POST /api/requests", () => {
  it.each([
    ["a body without text", JSON.stringify({ priority: "high" }), "/text", "is required"],
    ["text of the wrong type", JSON.stringify({ text: 42 }), "/text", "must be string"],
    ["an unknown field", JSON.stringify({ text: "hi", colour: "red" }), "/colour", "is not an allowed field"],
    ["a body that is not an object", JSON.stringify(["hi"]), "", "must be an object"],
  ])("answers 400 naming the problem for %s", async (_name, body, pointer, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; issues: Array<{ pointer: string; message: string }> } };
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toContainEqual(expect.objectContaining({ pointer, message }));
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await post("{not json");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("not valid JSON");
  });

  it("accepts a valid request with 202 and the session id, and the session finishes with its answer and trace", async () => {
    const res = await post(JSON.stringify({ text: "hello over http", priority: "high" }));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { session_id: string; links: { session: string } };
    expect(body.session_id).toMatch(/^s-/);
    expect(res.headers.get("location")).toBe(`/api/sessions/${body.session_id}`);
    const view = await finished(body.session_id);
    expect(view).toMatchObject({ status: "success", answer: { answer: "echo: hello over http" }, error: null });
    const trace = view.trace as Array<{ event: string; seq: number }>;
    expect(trace.map((h) => `${h.seq}:${h.event}`)).toEqual(["1:published", "1:delivered", "2:completed"]);
  });
});

describe("GET /api/sessions/:id/events", () => {
  it("streams one server-sent event per hop, then the end with the answer", async () => {
    const { session_id } = (await (await post(JSON.stringify({ text: "stream me" }))).json()) as { session_id: string };
    const res = await fetch(`${base}/api/sessions/${session_id}/events`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const events = text.split("\n\n").filter((b) => b.includes("event: "));
    const hops = events.filter((e) => e.includes("event: hop")).map((e) => JSON.parse(e.split("data: ")[1]!) as { event: string; seq: number });
    expect(hops.map((h) => `${h.seq}:${h.event}`)).toEqual(["1:published", "1:delivered", "2:completed"]);
    const end = events.find((e) => e.includes("event: end"));
    expect(JSON.parse(end!.split("data: ")[1]!)).toMatchObject({ status: "success", answer: { answer: "echo: stream me" } });
  });

  it("answers 404 for a session that does not exist", async () => {
    const res = await fetch(`${base}/api/sessions/s-unknown/events`, { headers: auth });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
