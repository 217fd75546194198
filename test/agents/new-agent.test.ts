/** `agentbus new-agent`: from an empty folder to a plugin agent whose own test passes. */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { runCli } from "../helpers/cli.ts";

// Inside the project (same depth as agents/), so the generated relative imports resolve as they would there.
const folder = `.scaffold-${randomBytes(3).toString("hex")}`;
const agentsDir = join(PROJECT_ROOT, folder);
afterAll(() => rmSync(agentsDir, { recursive: true, force: true }));

describe("agentbus new-agent", () => {
  it("writes a spec, a worker and a test, and the agent loads at once", async () => {
    const made = await runCli(["--agents-dir", folder, "new-agent", "greeter_agent", "--json"]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const { files } = JSON.parse(made.stdout) as { files: string[] };
    expect(files.map((f) => f.slice(agentsDir.length + 1))).toEqual(["greeter_agent/greeter_agent.md", "greeter_agent/worker.ts", "greeter_agent/greeter_agent.test.ts"]);
    const listed = await runCli(["--agents-dir", folder, "agents", "--json"]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { agents: Array<{ name: string }> }).agents.map((a) => a.name)).toEqual(["greeter_agent"]);
  });

  it("imports the runtime only through its public face: agent-api.ts (worker, test) and testing.ts (test)", () => {
    const importsOf = (file: string) => [...readFileSync(join(agentsDir, "greeter_agent", file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    expect(importsOf("worker.ts")).toEqual(["../../runtime/agent-api.ts"]);
    const fromTest = importsOf("greeter_agent.test.ts");
    expect(fromTest.filter((s) => s?.startsWith("."))).toEqual(["../../runtime/agent-api.ts", "../../runtime/testing.ts"]);
    expect(fromTest.filter((s) => !s?.startsWith("."))).toEqual(["node:url", "vitest"]);
  });

  it("generates a test that passes as it is", () => {
    writeFileSync(join(agentsDir, "vitest.config.ts"), `export default { test: { include: ["${folder}/**/*.test.ts"], testTimeout: 30000 } };\n`);
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, "node_modules/vitest/vitest.mjs"), "run", "--root", PROJECT_ROOT, "--config", join(agentsDir, "vitest.config.ts")], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stdout + run.stderr).toMatch(/1 passed/);
    expect(run.status).toBe(0);
  });

  it("refuses a bad name or an existing folder, naming the problem", async () => {
    const bad = await runCli(["--agents-dir", folder, "new-agent", "Bad-Name"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('agent name "Bad-Name" must be lower snake_case');
    const again = await runCli(["--agents-dir", folder, "new-agent", "greeter_agent"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("greeter_agent already exists");
    expect(existsSync(join(agentsDir, "greeter_agent", "worker.ts"))).toBe(true);
  });
});

