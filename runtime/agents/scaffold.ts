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
  const files: Record<string, string> = {
    [`${name}.md`]: spec(name, options.type ?? "operational", options.description ?? `Answers requests; scaffolded by agentbus new-agent.`),
    "worker.ts": worker(name, runtimeImport),
    [`${name}.test.ts`]: test(name, runtimeImport),
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
  return `import { defineHandler } from "${runtimeImport}/agent-api.ts";

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

/** The agent's own test: only the public face (agent-api) and the supported helper (testing). */
function test(name: string, runtimeImport: string): string {
  return `import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { schemaRegistry } from "${runtimeImport}/agent-api.ts";
import { contentOf, openAgentTest, type AgentTest } from "${runtimeImport}/testing.ts";

let t: AgentTest;

beforeAll(async () => {
  // The folder this agent sits in, on the real Redis under a queue prefix of this file's own.
  t = await openAgentTest({ agentsDir: fileURLToPath(new URL("..", import.meta.url)), agents: ["${name}"], name: "${name}" });
});

afterAll(async () => {
  await t?.close();
});

it("${name} answers a request with a valid synthesis", async () => {
  const sent = await t.send("${name}", "user_request", { text: "hello" });
  const reply = await t.completed(sent);
  expect(reply.agent.name).toBe("${name}");
  const synthesis = contentOf(reply, "synthesis");
  expect(synthesis.answer).toBe("${name} received: hello");
  const registry = schemaRegistry();
  expect(registry.check(registry.contentSchemaId("synthesis")!, synthesis)).toEqual([]);
});
`;
}
