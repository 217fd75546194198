/**
 * The dependency direction agents/* -> runtime/ holds: no runtime file imports from agents/ (a scan
 * here, and the import-x/no-restricted-paths rule in eslint.config.js for `npx eslint .`).
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { ESLint, type Linter } from "eslint";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { posix, tsFiles } from "../helpers/source-files.ts";


const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

/** Every relative import in `codeDir` whose target lies in `forbiddenDir`, as "file -> specifier". */
function importsInto(codeDir: string, forbiddenDir: string): string[] {
  const found: string[] = [];
  for (const file of tsFiles(codeDir)) {
    for (const m of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (!relative(forbiddenDir, target).startsWith("..")) found.push(`${posix(relative(PROJECT_ROOT, file))} -> ${spec}`);
    }
  }
  return found;
}

describe("runtime/ imports nothing from agents/", () => {
  it("no file under runtime/ imports from agents/", () => {
    expect(importsInto(join(PROJECT_ROOT, "runtime"), join(PROJECT_ROOT, "agents"))).toEqual([]);
  });

  it("the scan catches a violation, static or dynamic (fixture)", () => {
    const root = join(PROJECT_ROOT, "test", "fixtures", "boundaries");
    expect(importsInto(join(root, "runtime"), join(root, "agents"))).toEqual([
      "test/fixtures/boundaries/runtime/uses-agent.ts -> ../agents/some_agent/logic.ts",
      "test/fixtures/boundaries/runtime/uses-agent.ts -> ../agents/some_agent/logic.ts",
    ]);
  });

  it("eslint.config.js forbids it too: its no-restricted-paths rule reports a runtime file importing an agent", async () => {
    const { default: configs } = (await import(pathToFileURL(join(PROJECT_ROOT, "eslint.config.js")).href)) as { default: Linter.Config[] };
    const rule = configs.map((c) => c.rules?.["import-x/no-restricted-paths"]).find((r) => r !== undefined);
    expect(rule, "eslint.config.js must configure import-x/no-restricted-paths").toBeDefined();
    // The project's rule alone, without type-aware linting, so that a file that is not on disk can be linted.
    const eslint = new ESLint({
      cwd: PROJECT_ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ["**/*.ts"],
          languageOptions: { parser: tseslint.parser },
          plugins: { "import-x": importX },
          settings: { "import-x/resolver": { node: { extensions: [".ts", ".js"] } } },
          rules: { "import-x/no-restricted-paths": rule! },
        },
      ],
    });
    const lint = async (file: string, code: string): Promise<string[]> =>
      (await eslint.lintText(code, { filePath: join(PROJECT_ROOT, file) })).flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));
    const bad = await lint("runtime/agents/violation.ts", `export { handler } from "../../agents/planning_agent/worker.ts";\n`);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^import-x\/no-restricted-paths: .*runtime\/ must not import from agents\//);
    expect(await lint("runtime/agents/fine.ts", `export { loadAgents } from "./loader.ts";\n`)).toEqual([]);
    expect(await lint("agents/some_agent/fine.ts", `export { defineHandler } from "../../runtime/agent-api.ts";\n`)).toEqual([]);
  });
});

describe("agents/ import the runtime through its one public face", () => {
  it("every agent module (tests and agents/_shared/testing aside) imports runtime/ only via runtime/agent-api.ts", () => {
    const agentsDir = join(PROJECT_ROOT, "agents");
    const testing = join(agentsDir, "_shared", "testing");
    const runtimeDir = join(PROJECT_ROOT, "runtime");
    const deep: string[] = [];
    for (const file of tsFiles(agentsDir)) {
      if (file.endsWith(".test.ts") || file.startsWith(testing + sep)) continue;
      for (const m of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
        const spec = m[1]!;
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(file), spec);
        if (!relative(runtimeDir, target).startsWith("..") && target !== join(runtimeDir, "agent-api.ts")) deep.push(`${posix(relative(PROJECT_ROOT, file))} -> ${spec}`);
      }
    }
    expect(deep).toEqual([]);
  });
});
