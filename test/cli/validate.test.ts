/** `agentbus validate` over the frozen fixtures: every valid one passes, every invalid one fails for its reason. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { runCli } from "../helpers/cli.ts";

const FIXTURES = join(PROJECT_ROOT, "test/fixtures/envelopes");
const AGENTS = ["--agents-dir", "test/fixtures/agents"];

interface Expected {
  pointer: string;
  message_includes: string;
  rule: string;
  cli_warning_only?: boolean;
}
interface Issue {
  pointer: string;
  message: string;
  rule: string;
}
interface FileResult {
  file: string;
  valid: boolean;
  issues: Issue[];
  warnings: Issue[];
}

const expected = JSON.parse(readFileSync(join(FIXTURES, "invalid/expected.json"), "utf8")) as Record<string, Expected>;
const validFiles = readdirSync(join(FIXTURES, "valid")).filter((f) => f.endsWith(".json")).map((f) => `test/fixtures/envelopes/valid/${f}`);
const invalidFiles = Object.keys(expected).map((f) => `test/fixtures/envelopes/invalid/${f}`);

describe("agentbus validate", () => {
  it("accepts every valid fixture (exit 0)", async () => {
    const r = await runCli([...AGENTS, "validate", "--json", ...validFiles]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { valid: boolean; results: FileResult[] };
    expect(out.results.filter((x) => !x.valid)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("rejects every invalid fixture with its expected reason (exit 1); unknown agents are only warnings", async () => {
    const r = await runCli([...AGENTS, "validate", "--json", ...invalidFiles]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; results: FileResult[] };
    expect(out.results).toHaveLength(invalidFiles.length);
    for (const result of out.results) {
      const want = expected[result.file.split("/").pop()!]!;
      const pool = want.cli_warning_only ? result.warnings : result.issues;
      const match = pool.find((i) => i.pointer === want.pointer && i.message.includes(want.message_includes) && i.rule === want.rule);
      expect(match, `${result.file}: expected ${JSON.stringify(want)} in ${JSON.stringify(pool)}`).toBeDefined();
      expect(result.valid, result.file).toBe(Boolean(want.cli_warning_only));
    }
  });

  it("prints each problem with its JSON pointer for people", async () => {
    const file = invalidFiles.find((f) => f.endsWith("has-error-without-code.json")) ?? invalidFiles[0]!;
    const r = await runCli([...AGENTS, "validate", file]);
    expect(r.code).toBe(1);
    const want = expected[file.split("/").pop()!]!;
    expect(r.stdout).toContain(`✗ ${file}: invalid envelope`);
    expect(r.stdout).toContain(want.pointer);
    expect(r.stdout).toContain(want.message_includes);
  });

  it("exits 2 naming the file when it does not exist", async () => {
    const r = await runCli(["validate", "no/such/file.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read no/such/file.json: no such file");
  });
});
