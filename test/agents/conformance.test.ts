/**
 * Every folder in agents/ is a conforming plugin: its spec is valid, its worker exports a handler,
 * and its declared content types and routes agree with the other agents' specs.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAgents, type AgentRegistry } from "../../runtime/agents/loader.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";

const AGENTS_DIR = join(PROJECT_ROOT, "agents");
const EXTERNAL = ["user", "batch_scheduler"];
// Folders starting with "_" (agents/_shared) hold code several agents share; the loader skips them.
const folders = readdirSync(AGENTS_DIR).filter((f) => !f.startsWith(".") && !f.startsWith("_") && statSync(join(AGENTS_DIR, f)).isDirectory());
const registry: AgentRegistry = await loadAgents({ agentsDir: AGENTS_DIR, root: PROJECT_ROOT, registry: schemaRegistry(), externalSources: EXTERNAL });

describe("agents/ conformance", () => {
  it("loads every folder without errors", () => {
    expect(registry.broken).toEqual([]);
    expect(registry.names().sort()).toEqual([...folders].sort());
  });

  describe.each(folders)("%s", (name) => {
    it("has a worker exporting a handler function", () => {
      expect(typeof registry.get(name)?.handler).toBe("function");
    });

    it("sends only to agents that accept it, with a content type they accept", () => {
      const spec = registry.spec(name)!;
      for (const target of spec.emits.next_agents) {
        if (target === "COMPLETE") continue;
        const receiver = registry.spec(target);
        expect(receiver, `${name} sends to ${target}, which is not in agents/`).toBeDefined();
        expect(receiver!.accepts.sources, `${target} must accept messages from ${name}`).toContain(name);
        const shared = spec.emits.content_types.filter((t) => receiver!.accepts.content_types.includes(t));
        expect(shared, `${target} accepts none of the types ${name} emits`).not.toEqual([]);
      }
    });

    it("accepts only from external sources or agents that send to it", () => {
      const spec = registry.spec(name)!;
      for (const source of spec.accepts.sources) {
        if (EXTERNAL.includes(source)) continue;
        const sender = registry.spec(source);
        expect(sender, `${name} accepts from ${source}, which is not in agents/`).toBeDefined();
        expect(sender!.emits.next_agents, `${source} never sends to ${name}`).toContain(name);
      }
    });

    it("has a test of its own beside it", () => {
      expect(readdirSync(join(AGENTS_DIR, name)).some((f) => f.endsWith(".test.ts")), `agents/${name}/ needs a *.test.ts`).toBe(true);
    });
  });
});
