/**
 * The action agent on the real bus (Redis) with the system of record (Postgres): a `task` arrives
 * as if from the dispatch agent, the built-in capabilities run against a local web site, and the
 * `action_result` reaches a stand-in dispatch agent as a valid envelope.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinCapabilities } from "../../runtime/capabilities/builtin/index.ts";
import type { AgentContext, AgentReply } from "../../runtime/agents/handler.ts";
import { CapabilityRegistry } from "../../runtime/capabilities/registry.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import type { Capability } from "../../runtime/capabilities/types.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { buildEnvelope } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { newRequestId, newSessionId } from "../../runtime/envelope/ids.ts";
import type { ContentTypeMap, Envelope, JsonObject } from "../../runtime/envelope/types.ts";
import { contentOf } from "../../runtime/testing.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";

import { TEST_FETCH_ALLOW } from "../../test/capabilities/helpers.ts";
import { DeferredError } from "../../runtime/errors/index.ts";
import { handler } from "./worker.ts";

type Task = ContentTypeMap["task"];
type ActionResult = ContentTypeMap["action_result"];

const prefix = uniquePrefix("action");
const schema = uniqueSchema("action");
const PAGE = "<html><head><title>Demo</title></head><body><p>Hello.</p></body></html>";
// NUL bytes (which ordinary pages can hold) and broken UTF-8 (a lone continuation byte, a truncated sequence).
const NUL_PAGE = Buffer.concat([Buffer.from("<html><head><title>Nul</title></head><body><p>Hel"), Buffer.from([0]), Buffer.from("lo caf"), Buffer.from([0xc3, 0x28]), Buffer.from(" b"), Buffer.from([0xff]), Buffer.from("d.</p>"), Buffer.from([0, 0]), Buffer.from("</body></html>")]);
let root: string;
let server: Server;
let base: string;
let runtime: Runtime;
let events: EventLog;

/** A deployment root with the real action agent and a stand-in dispatch agent that only listens. */
function deployment(): string {
  const dir = mkdtempSync(join(tmpdir(), "agentbus-action-"));
  for (const file of ["context/application.md", "governance/message_format.md"]) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, file), join(dir, file));
  }
  mkdirSync(join(dir, "agents", "action_agent"), { recursive: true });
  copyFileSync(join(PROJECT_ROOT, "agents", "action_agent", "action_agent.md"), join(dir, "agents", "action_agent", "action_agent.md"));
  const realWorker = pathToFileURL(join(PROJECT_ROOT, "agents", "action_agent", "worker.ts")).href;
  writeFileSync(join(dir, "agents", "action_agent", "worker.ts"), `export { handler } from ${JSON.stringify(realWorker)};\n`);
  mkdirSync(join(dir, "agents", "dispatch_agent"), { recursive: true });
  writeFileSync(
    join(dir, "agents", "dispatch_agent", "dispatch_agent.md"),
    [
      "---",
      "name: dispatch_agent",
      "type: orchestration",
      "accepts: { sources: [action_agent], content_types: [action_result] }",
      "emits: { content_types: [task], next_agents: [action_agent] }",
      "---",
      "A stand-in that receives results and sends nothing.",
    ].join("\n"),
  );
  writeFileSync(join(dir, "agents", "dispatch_agent", "worker.ts"), "export const handler = async () => null;\n");
  return dir;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/page") res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    else if (req.url === "/nul") res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(NUL_PAGE);
    else if (req.url === "/busy") res.writeHead(429, { "retry-after": "3" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = deployment();
  ({ runtime, events } = await openTestRuntime(prefix, {
    config: testConfig(prefix, { root, agentsDir: join(root, "agents"), dbSchema: schema, databaseUrl: DATABASE_URL }),
    store: true,
    capabilities: builtinCapabilities({ fetch: { timeoutMs: 2000, allow: TEST_FETCH_ALLOW } }),
  }));
  expect(runtime.agents.broken).toEqual([]);
  runtime.startAgents(["action_agent", "dispatch_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Sends a task as the dispatch agent would and waits for the result it gets back. */
async function run(task: Partial<Task> & Pick<Task, "capability" | "inputs">): Promise<{ sent: Envelope; reply: Envelope; result: ActionResult }> {
  const content: Task = { plan_id: "p-1", task_id: "t1", attempt: 1, ...task };
  const sent = buildEnvelope(
    {
      sender: { name: "dispatch_agent", type: "orchestration", abbr: "dispatch" },
      input: { source: "planning_agent", content: null },
      output: { content_type: "task", content },
      next_agent: { name: "action_agent", reason: `run ${content.task_id}` },
      metadata: { session_id: newSessionId(), request_id: newRequestId(), sequence_number: 1, parent_message_id: null },
    },
    { clock: systemClock, timezone: "UTC" },
  );
  expect(await runtime.bus.publish(sent)).toMatchObject({ accepted: true });
  const delivered = await events.waitFor((e) => e.kind === "delivered" && e.agent === "dispatch_agent" && (e.envelope as Envelope).metadata.parent_message_id === sent.message_id);
  const reply = delivered.envelope as Envelope;
  return { sent, reply, result: contentOf(reply, "action_result") };
}

describe("action_agent runs one task and reports to dispatch", () => {
  it("reports a successful fetch with its outputs, time, attempt, domain and source reference", async () => {
    const { sent, reply, result } = await run({ capability: "fetch", inputs: { url: `${base}/page` } });
    expect(runtime.bus.validate(reply).ok).toBe(true);
    expect(reply.agent).toEqual({ name: "action_agent", type: "operational" });
    expect(reply.input).toEqual({ source: "dispatch_agent", content: sent.output.content });
    expect(reply.status).toEqual({ code: "success", message: "ok" });
    expect(reply.error).toEqual({ has_error: false, error_code: null, error_message: null, retry_count: 0, recoverable: false });
    expect(result).toMatchObject({
      plan_id: "p-1",
      task_id: "t1",
      capability: "fetch",
      attempt: 1,
      domain: "127.0.0.1",
      outputs: { html: PAGE, status: 200, content_type: "text/html", domain: "127.0.0.1", bytes: PAGE.length, truncated: false },
      refs: [{ ref_id: "src_1", uri: `${base}/page`, description: "url given to fetch" }],
    });
    expect(result.error).toBeUndefined();
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    expect(reply.resources.source_refs).toEqual(result.refs);
    expect(reply.audit.governance_files_consulted).toEqual(["agents/action_agent/action_agent.md", "context/application.md", "governance/message_format.md"]);
  });

  it("answers for a page with NUL bytes and broken UTF-8: normalised, counted, said in the envelope, stored in the audit log", async () => {
    const { reply, result } = await run({ capability: "fetch", inputs: { url: `${base}/nul` } });
    expect(reply.status.code).toBe("success");
    const html = result.outputs.html as string;
    expect(html).not.toContain("\u0000");
    expect(html).toContain("<p>Hello caf\ufffd( b\ufffdd.</p></body>");
    expect(result.outputs).toMatchObject({ normalized_chars: 3, bytes: NUL_PAGE.length });
    expect(reply.audit.compliance_notes).toContain("3 character(s) of fetched or generated text normalised");
    await runtime.store!.audit.flush();
    const rows = await runtime.store!.db.query(`SELECT outcome FROM "${schema}".audit_log WHERE envelope->>'message_id' = $1`, [reply.message_id]);
    expect(rows.rows.length).toBeGreaterThan(0);
  });

  it("normalises any capability's outputs, not only fetch's", async () => {
    const leaky: Capability = {
      name: "leaky",
      description: "Returns text with a NUL and a lone surrogate in it, as a plugin might.",
      consumes: {},
      produces: { text: "text" },
      inputSchema: { type: "object", properties: {} },
      outputSchema: { type: "object", properties: { text: { type: "string" } } },
      execute: async () => ({ text: "a\u0000b\ud800c" }),
    };
    // A partial context: the handler reads only these fields on this path.
    const ctx = { capabilities: new CapabilityRegistry([leaky]), clock: systemClock, logger: silentLogger(), llm: null, registry: schemaRegistry(), idempotencyKey: "msg-dispatch-20261121-100000-b" } as unknown as AgentContext;
    const task: Task = { plan_id: "p-1", task_id: "t8", capability: "leaky", inputs: {}, attempt: 1 };
    const reply = (await handler({ content_type: "task", content: task as Task & JsonObject, source: "dispatch_agent" }, ctx)) as AgentReply;
    expect((reply.content as ActionResult).outputs).toEqual({ text: "ab\ufffdc" });
    expect(reply.compliance_notes?.some((n) => n.startsWith("2 character(s)"))).toBe(true);
  });

  it("reports a 404 as a failure that is not recoverable", async () => {
    const { reply, result } = await run({ capability: "fetch", inputs: { url: `${base}/gone` } });
    expect(result.error).toEqual({ code: "HTTP_404", message: `${base}/gone answered 404 Not Found`, recoverable: false });
    expect(result).toMatchObject({ outputs: {}, domain: "127.0.0.1", attempt: 1 });
    expect(reply.status.code).toBe("failed");
    expect(reply.error).toEqual({ has_error: true, error_code: "HTTP_404", error_message: `${base}/gone answered 404 Not Found`, retry_count: 0, recoverable: false });
  });

  it("reports a 429 with Retry-After as recoverable, with retry_after_ms, for the attempt it was", async () => {
    const { reply, result } = await run({ capability: "fetch", inputs: { url: `${base}/busy` }, attempt: 2 });
    expect(result.error).toEqual({ code: "HTTP_429", message: `${base}/busy answered 429 Too Many Requests (Retry-After: 3000 ms)`, recoverable: true, retry_after_ms: 3000 });
    expect(result).toMatchObject({ attempt: 2, domain: "127.0.0.1" });
    expect(reply.error).toMatchObject({ has_error: true, error_code: "HTTP_429", recoverable: true, retry_count: 1 });
  });

  it("reports inputs that break the capability's schema as BAD_INPUT, not recoverable", async () => {
    const { reply, result } = await run({ capability: "compute", inputs: { expression: 42 } });
    expect(result.error).toEqual({ code: "BAD_INPUT", message: "inputs for compute are invalid: /inputs/expression: must be string", recoverable: false });
    expect(reply.error).toMatchObject({ has_error: true, error_code: "BAD_INPUT", recoverable: false });
  });

  it("reports an unknown capability as CAPABILITY_UNKNOWN, not recoverable", async () => {
    const { result } = await run({ capability: "teleport", inputs: {} });
    expect(result.error).toMatchObject({ code: "CAPABILITY_UNKNOWN", recoverable: false });
  });

  it("runs a capability without a remote host: no domain, no references", async () => {
    const { result } = await run({ capability: "compute", inputs: { expression: "(120 + 80) / 4" }, task_id: "t2" });
    expect(result).toMatchObject({ task_id: "t2", outputs: { value: 50, expression: "(120 + 80) / 4" } });
    expect(result.domain).toBeUndefined();
    expect(result.refs).toEqual([]);
  });

  it("turns outputs too large to send into OUTPUT_INVALID instead of a reply the bus would refuse", async () => {
    const big: Capability = {
      name: "big",
      description: "Returns more text than a message may carry.",
      consumes: {},
      produces: { text: "text" },
      inputSchema: { type: "object", properties: {} },
      outputSchema: { type: "object", properties: { text: { type: "string" } } },
      execute: async () => ({ text: "x".repeat(250_000) }),
    };
    // A partial context: the handler reads only these fields on this path.
    const ctx = { capabilities: new CapabilityRegistry([big]), clock: systemClock, logger: silentLogger(), llm: null, registry: schemaRegistry(), idempotencyKey: "msg-dispatch-20261121-100000-a" } as unknown as AgentContext;
    const task: Task = { plan_id: "p-1", task_id: "t9", capability: "big", inputs: {}, attempt: 1 };
    const reply = (await handler({ content_type: "task", content: task as Task & JsonObject, source: "dispatch_agent" }, ctx)) as AgentReply;
    expect(reply.next_agent).toBe("dispatch_agent");
    expect(reply.error).toMatchObject({ code: "OUTPUT_INVALID", recoverable: false });
    expect((reply.content as ActionResult).outputs).toEqual({});
    expect(reply.error?.message).toContain("/outputs/text");
  });

  it("defers a task whose capability lane is full (no attempt used) and runs it once the lane frees", async () => {
    let finish: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const slow: Capability = {
      name: "slow",
      description: "Holds its lane until the test lets it go.",
      consumes: {},
      produces: { text: "text" },
      inputSchema: { type: "object", properties: {} },
      outputSchema: { type: "object", properties: { text: { type: "string" } } },
      lanes: { max: 1 },
      execute: async () => {
        await gate;
        return { text: "done" };
      },
    };
    // A partial context: the handler reads only these fields on this path.
    const ctx = { capabilities: new CapabilityRegistry([slow]), clock: systemClock, logger: silentLogger(), llm: null, registry: schemaRegistry(), idempotencyKey: "msg-dispatch-20261121-100000-c" } as unknown as AgentContext;
    const message = (task_id: string) => ({ content_type: "task" as const, content: { plan_id: "p-1", task_id, capability: "slow", inputs: {}, attempt: 1 }, source: "dispatch_agent" });
    const first = handler(message("t1"), ctx);
    const second = await Promise.resolve(handler(message("t2"), ctx)).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(DeferredError);
    expect((second as DeferredError).message).toBe("slow lane is full (1 of 1 running in this process)");
    finish();
    expect(((await first) as AgentReply).status).toBeUndefined();
    expect(((await handler(message("t2"), ctx)) as AgentReply).next_agent).toBe("dispatch_agent");
  });

  it("sent nothing to the dead-letter queue", async () => {
    expect(await runtime.bus.deadLetters.list()).toEqual([]);
  });
});
