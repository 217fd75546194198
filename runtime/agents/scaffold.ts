/** `agentbus new-agent`: writes a plugin agent folder (spec, worker, test) that loads and answers at once. */
import { existsSync, mkdirSync, writeFileSync, renameSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { AgentbusError, ConfigError } from "../errors/index.ts";

export interface ScaffoldOptions {
  name: string;
  agentsDir: string;
  /** Where runtime/ lives, for the generated imports. */
  projectRoot: string;
  type?: string;
  description?: string;
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Creates agents/<name>/ atomically (a temp folder renamed into place); returns the files written. */
export function scaffoldAgent(options: ScaffoldOptions): string[] {
  const { name, agentsDir } = options;
  if (!NAME.test(name)) throw new ConfigError(`agent name "${name}" must be lower snake_case: a letter, then letters, digits or _ (e.g. greeter_agent)`);
  if (name === "user" || name === "batch_scheduler" || name === "COMPLETE") throw new ConfigError(`"${name}" is reserved for a message source`);
  const dir = join(agentsDir, name);
  if (existsSync(dir)) throw new AgentbusError("ALREADY_EXISTS", `${dir} already exists; choose another name or remove it`);
  const runtimeImport = toPosix(relative(dir, join(options.projectRoot, "runtime")));
  const helpersImport = toPosix(relative(dir, join(options.projectRoot, "test", "helpers")));
  const files: Record<string, string> = {
    [`${name}.md`]: spec(name, options.type ?? "operational", options.description ?? `Answers requests; scaffolded by agentbus new-agent.`),
    "worker.ts": worker(name, runtimeImport),
    [`${name}.test.ts`]: test(name, runtimeImport, helpersImport, toPosix(relative(options.projectRoot, agentsDir))),
  };
  mkdirSync(agentsDir, { recursive: true });
  const tmp = join(agentsDir, `.${name}.tmp-${process.pid}`);
  mkdirSync(tmp);
  try {
    for (const [file, text] of Object.entries(files)) writeFileSync(join(tmp, file), text);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return Object.keys(files).map((f) => join(dir, f));
}

function toPosix(p: string): string {
  return p.split(sep).join("/");
}

function spec(name: string, type: string, description: string): string {
  return `---
name: ${name}
type: ${type}
concurrency: 2
accepts: { sources: [user], content_types: [user_request] }
emits: { content_types: [synthesis], next_agents: [COMPLETE] }
governance: [context/application.md, governance/message_format.md]
---
${description}

These instructions are the agent's system prompt when an LLM is configured (ctx.llm). Say what the
agent is for, what it must never do, and how it should answer.
`;
}

function worker(name: string, runtimeImport: string): string {
  return `import { defineHandler } from "${runtimeImport}/agents/handler.ts";

/**
 * ${name}: receives a user_request and answers with a synthesis to COMPLETE.
 * The runtime validates, audits and routes what this returns; change the front matter in
 * ${name}.md when this agent should accept or send other content types.
 */
export const handler = defineHandler<"user_request">(async (input, ctx) => ({
  content_type: "synthesis",
  content: { answer: \`${name} received: \${input.content.text}\`, findings: [], contradictions: [], confidence: 1 },
  next_agent: "COMPLETE",
  reasoning: \`answered on attempt \${ctx.attempt}\`,
}));
`;
}

function test(name: string, runtimeImport: string, helpersImport: string, agentsDirFromRoot: string): string {
  return `import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildRequest } from "${runtimeImport}/envelope/build.ts";
import { systemClock } from "${runtimeImport}/envelope/clock.ts";
import type { Envelope } from "${runtimeImport}/envelope/types.ts";
import { PROJECT_ROOT } from "${runtimeImport}/paths.ts";
import type { Runtime } from "${runtimeImport}/runtime.ts";
import { dropPrefix, openTestRuntime, testConfig, uniquePrefix, type EventLog } from "${helpersImport}/bus.ts";

const prefix = uniquePrefix("${name}");
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix, { config: testConfig(prefix, { agentsDir: join(PROJECT_ROOT, "${agentsDirFromRoot}") }) }));
  runtime.startAgents(["${name}"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
});

it("${name} answers a request with a valid synthesis", async () => {
  const req = buildRequest({ content_type: "user_request", content: { text: "hello" }, to: "${name}" }, { clock: systemClock, timezone: "UTC" });
  expect((await runtime.bus.publish(req)).accepted).toBe(true);
  const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
  const reply = done.envelope as Envelope;
  expect(reply.agent.name).toBe("${name}");
  expect(reply.output.content.answer).toBe("${name} received: hello");
  expect(runtime.bus.validate(reply).ok).toBe(true);
});
`;
}
