/** `agentbus agents`, `send`, `dead-letters` and `replay` as a user runs them, on real Redis. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, REDIS_URL, uniquePrefix, uniqueSchema, type EventLog } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

const prefix = uniquePrefix("cli");
const schema = uniqueSchema("cli");
const dir = mkdtempSync(join(tmpdir(), "agentbus-cli-"));
const env = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema };
const bus = ["--agents-dir", "test/fixtures/agents", "--prefix", prefix];
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix));
  runtime.startAgents(["echo_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

function writeEnvelope(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

describe("agentbus agents", () => {
  it("lists loaded agents with queues and routes", async () => {
    const r = await runCli([...bus, "agents", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { agents: Array<{ name: string; queue: string; accepts: { sources: string[] } }>; broken: unknown[] };
    const echo = out.agents.find((a) => a.name === "echo_agent");
    expect(echo).toMatchObject({ queue: `${prefix}:echo_agent`, accepts: { sources: ["user", "fanout_agent"] } });
    expect(out.broken).toEqual([]);
  });

  it("names broken folders and their problems, and exits 1", async () => {
    const r = await runCli(["--agents-dir", "test/fixtures/broken-agents", "agents"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("1 loaded, 8 broken");
    expect(r.stdout).toContain("BROKEN no_worker: test/fixtures/broken-agents/no_worker/worker.ts: worker file is missing");
  });
});

describe("agentbus send and dead-letters", () => {
  it("publishes a valid envelope that an agent then answers", async () => {
    const req = buildRequest({ content_type: "user_request", content: { text: "from the cli" }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
    const r = await runCli([...bus, "send", writeEnvelope("ok.json", req)], env);
    expect(r.stdout).toContain(`✓ published ${req.message_id} → echo_agent`);
    expect(r.code).toBe(0);
    const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    expect((done.envelope as Envelope).output.content.answer).toBe("echo: from the cli");
  });

  it("refuses an invalid one into the dead-letter queue, lists it, and replays it once fixed", async () => {
    const req = buildRequest({ content_type: "user_request", content: { text: "fix me" }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
    const broken = { ...req, error: { ...req.error, has_error: true } };
    const sent = await runCli([...bus, "send", "--json", writeEnvelope("bad.json", broken)], env);
    expect(sent.code).toBe(1);
    const refusal = JSON.parse(sent.stdout) as { accepted: boolean; dead_letter_id: string; issues: Array<{ pointer: string }> };
    expect(refusal.accepted).toBe(false);
    expect(refusal.issues.map((i) => i.pointer)).toEqual(["/error/error_code", "/status/code"]);

    const listed = await runCli([...bus, "dead-letters", "--json"], env);
    const letters = JSON.parse(listed.stdout) as { total: number; dead_letters: Array<{ id: string; stage: string; message_id: string }> };
    expect(letters.dead_letters).toContainEqual(expect.objectContaining({ id: refusal.dead_letter_id, stage: "send", message_id: req.message_id }));

    const stillBad = await runCli([...bus, "dead-letters", "replay", refusal.dead_letter_id], env);
    expect(stillBad.code).toBe(1);
    expect(stillBad.stdout).toContain("still invalid; dead letter");

    const replay = await runCli([...bus, "dead-letters", "replay", refusal.dead_letter_id, "--file", writeEnvelope("fixed.json", req)], env);
    expect(replay.stdout).toContain(`✓ replayed ${req.message_id} → echo_agent`);
    expect(replay.code).toBe(0);
    await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    await expect(runtime.bus.deadLetters.get(refusal.dead_letter_id)).rejects.toThrow("not found");
    // Four CLI processes, each starting tsx: on a loaded 2-core machine that alone can take 30 s.
  }, 90_000);

  it("says clearly when no Redis can be reached (exit 3)", async () => {
    const r = await runCli([...bus, "dead-letters"], { REDIS_URL: "redis://127.0.0.1:1" });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("error REDIS_UNAVAILABLE: cannot reach Redis at REDIS_URL=redis://127.0.0.1:1");
  });
});
