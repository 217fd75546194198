import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAgents } from "../../runtime/agents/loader.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";

const load = (dir: string) =>
  loadAgents({ agentsDir: join(PROJECT_ROOT, dir), root: PROJECT_ROOT, registry: schemaRegistry(), externalSources: ["user", "batch_scheduler"] });

describe("the agent loader", () => {
  it("loads every fixture agent with its spec, governance files and handler", async () => {
    const agents = await load("test/fixtures/agents");
    expect(agents.broken).toEqual([]);
    expect(agents.names()).toEqual(["badreply_agent", "defer_agent", "echo_agent", "fanout_agent", "flaky_agent", "learning_agent", "review_station_agent", "slow_agent"]);
    const echo = agents.get("echo_agent")!;
    expect(echo.abbr).toBe("echo");
    expect(echo.spec.concurrency).toBe(4);
    expect(echo.instructions).toContain("Answers every request");
    expect(echo.governance.map((g) => g.path)).toEqual(["context/application.md", "governance/message_format.md"]);
    expect(echo.governance[0]!.content.length).toBeGreaterThan(0);
    expect(typeof echo.handler).toBe("function");
  });

  it("reports each broken folder with the file and the problem, and still loads the good one", async () => {
    const agents = await load("test/fixtures/broken-agents");
    expect(agents.names()).toEqual(["good_agent"]);
    const reasons = Object.fromEntries(agents.broken.map((b) => [b.folder, `${b.file}: ${b.error}`]));
    const base = "test/fixtures/broken-agents";
    expect(reasons.bad_yaml).toMatch(new RegExp(`^${base}/bad_yaml/bad_yaml.md: front matter is not valid YAML`));
    expect(reasons.no_worker).toBe(`${base}/no_worker/worker.ts: worker file is missing`);
    expect(reasons.wrong_name).toBe(`${base}/wrong_name/wrong_name.md: name "other_name" must equal its folder name "wrong_name"`);
    expect(reasons.no_handler).toMatch(`${base}/no_handler/worker.ts: must export a handler function`);
    expect(reasons.unknown_type).toMatch(`${base}/unknown_type/unknown_type.md: content type "telepathy" is not registered`);
    expect(reasons.missing_governance).toBe(`${base}/missing_governance/missing_governance.md: governance file governance/does_not_exist.md does not exist`);
    expect(reasons.import_throws).toBe(`${base}/import_throws/worker.ts: worker failed to import: boom at import`);
    expect(reasons.no_spec).toBe(`${base}/no_spec/no_spec.md: spec file is missing (every agent folder needs no_spec.md)`);
    expect(agents.broken).toHaveLength(8);
  });

  it("skips folders whose name starts with _ (shared code, not an agent), even when they look like a broken agent", async () => {
    // test/fixtures/agents/_shared has a worker.ts but no spec: loaded as an agent, it would be broken.
    const agents = await load("test/fixtures/agents");
    expect(agents.broken).toEqual([]);
    expect(agents.names().some((n) => n.startsWith("_"))).toBe(false);
    const real = await load("agents");
    expect(real.names()).not.toContain("_shared");
    expect(real.broken.map((b) => b.folder)).not.toContain("_shared");
  });

  it("treats external sources as senders but never as agents", async () => {
    const agents = await load("test/fixtures/agents");
    expect(agents.isExternalSource("user")).toBe(true);
    expect(agents.isExternalSource("echo_agent")).toBe(false);
    expect(agents.spec("user")).toBeUndefined();
  });
});
