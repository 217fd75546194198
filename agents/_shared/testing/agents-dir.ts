/**
 * An agents folder for the reasoning and memory tests: copies of the real reasoning_agent and
 * memory_agent (with agents/_shared, which they import), plus a stub dispatch_agent whose spec makes dispatch_agent → reasoning_agent a valid
 * route (the tests publish dispatch reports as if it had sent them). The folder sits in the project
 * root, at the depth of agents/, so the workers' relative imports of runtime/ resolve as they do
 * there; `.scaffold-*` folders are ignored by git and eslint.
 */
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../../runtime/paths.ts";

const DISPATCH_STUB_SPEC = `---
name: dispatch_agent
type: operational
accepts: { sources: [planning_agent], content_types: [plan] }
emits: { content_types: [dispatch_report], next_agents: [reasoning_agent] }
---
Stand-in for the dispatch agent: the tests send its dispatch reports themselves.
`;

export function reasoningAgentsDir(): { dir: string; remove: () => void } {
  const dir = join(PROJECT_ROOT, `.scaffold-reasoning-${randomBytes(4).toString("hex")}`);
  // _shared comes along: the copied workers import the plan model and report reader from ../_shared.
  for (const name of ["reasoning_agent", "memory_agent", "_shared"]) {
    cpSync(join(PROJECT_ROOT, "agents", name), join(dir, name), { recursive: true, filter: (src) => !src.endsWith(".test.ts") });
  }
  mkdirSync(join(dir, "dispatch_agent"));
  writeFileSync(join(dir, "dispatch_agent", "dispatch_agent.md"), DISPATCH_STUB_SPEC);
  writeFileSync(join(dir, "dispatch_agent", "worker.ts"), "export const handler = async () => null;\n");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
