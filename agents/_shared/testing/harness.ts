/**
 * A sandbox deployment for the planning and dispatch agent tests: a temporary root whose agents/
 * holds copies of the agents under test (spec copied, worker re-exporting the real one) and the
 * scripted stand-ins from agents/_shared/testing/fixtures/agents, so these tests do not depend on the real
 * action and reasoning agents. context/ and governance/ are links to the project's.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../../runtime/paths.ts";
import { buildEnvelope } from "../../../runtime/envelope/build.ts";
import { systemClock } from "../../../runtime/envelope/clock.ts";
import { abbreviate, newRequestId, newSessionId } from "../../../runtime/envelope/ids.ts";
import type { Envelope, JsonObject } from "../../../runtime/envelope/types.ts";
import type { RuntimeOptions } from "../../../runtime/runtime.ts";
import { DATABASE_URL, openTestRuntime, testConfig, type EventLog } from "../../../test/helpers/bus.ts";

const FIXTURES = join(PROJECT_ROOT, "agents", "_shared", "testing", "fixtures", "agents");

export interface Sandbox {
  root: string;
  agentsDir: string;
  remove(): void;
}

/** `real` agents come from agents/, `stubs` from agents/_shared/testing/fixtures/agents/. */
export function agentSandbox(agents: { real: string[]; stubs: string[] }): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "agentbus-planning-"));
  for (const shared of ["context", "governance"]) symlinkSync(join(PROJECT_ROOT, shared), join(root, shared), "dir");
  const agentsDir = join(root, "agents");
  const place = (name: string, from: string): void => {
    const dir = join(agentsDir, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(from, name, `${name}.md`), join(dir, `${name}.md`));
    writeFileSync(join(dir, "worker.ts"), `export { handler } from ${JSON.stringify(join(from, name, "worker.ts"))};\n`);
  };
  for (const name of agents.real) place(name, join(PROJECT_ROOT, "agents"));
  for (const name of agents.stubs) place(name, FIXTURES);
  return { root, agentsDir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A runtime on real Redis (under `prefix`) and real Postgres (schema `dbSchema`) over the sandbox. */
export function openSandboxRuntime(prefix: string, dbSchema: string, sandbox: Sandbox, options: Partial<RuntimeOptions> = {}): ReturnType<typeof openTestRuntime> {
  return openTestRuntime(prefix, {
    dbSchema,
    config: testConfig(prefix, { root: sandbox.root, agentsDir: sandbox.agentsDir, dbSchema, databaseUrl: DATABASE_URL }),
    ...options,
  });
}

/** The first message of a session, sent as `sender` (a loaded agent) rather than an external source. */
export function firstMessage(sender: { name: string; type: string }, to: string, content_type: string, content: JsonObject): Envelope {
  return buildEnvelope(
    {
      sender: { ...sender, abbr: abbreviate(sender.name) },
      input: { source: "user", content: null },
      output: { content_type, content },
      next_agent: { name: to, reason: "test" },
      metadata: { session_id: newSessionId(), request_id: newRequestId(), sequence_number: 1, parent_message_id: null },
    },
    { clock: systemClock, timezone: "UTC" },
  );
}

export const envelopeOf = (e: { envelope: unknown }): Envelope => e.envelope as Envelope;
export const inSession = (session: string) => (e: { envelope: unknown }): boolean => envelopeOf(e).metadata?.session_id === session;

export function completedFor(events: EventLog, session: string, timeoutMs = 15_000): Promise<Envelope> {
  return events.waitFor((e) => e.kind === "completed" && inSession(session)(e), timeoutMs).then(envelopeOf);
}

/** Polls until `fn` returns a value that is not undefined (e.g. rows the audit writer flushes a little later). */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
