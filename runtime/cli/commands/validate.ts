/** `agentbus validate <file.json>…`: schema, content, cross-field and (where agents are known) route rules. */
import type { Command } from "commander";
import { validateEnvelope } from "../../envelope/validate.ts";
import { schemaRegistry } from "../../schemas/registry.ts";
import type { Issue } from "../../errors/index.ts";
import type { AgentRegistry } from "../../agents/loader.ts";
import type { RuntimeConfig } from "../../config/config.ts";
import { agentsFrom, configFrom } from "../context.ts";
import { EXIT, formatIssues, printJson } from "../output.ts";
import { readJsonFile } from "../read-json.ts";

interface FileResult {
  file: string;
  valid: boolean;
  issues: Issue[];
  warnings: Issue[];
}

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check that files are valid envelopes; prints every problem with its JSON pointer")
    .argument("<files...>", "envelopes as JSON files")
    .option("--json", "print the result as JSON (one object for one file; {valid, results} for several)")
    .addHelpText(
      "after",
      "\nExit codes: 0 all valid, 1 any invalid, 2 a file not found or bad flags.\nRoutes are checked against the loaded agents (--agents-dir); an unknown agent name is a\nwarning here, while on the bus it is an error.",
    )
    .action(async (files: string[], opts: { json?: boolean }) => {
      const config = configFrom(program);
      const agents = await agentsFrom(config);
      const results = files.map((file) => validateFile(file, config, agents));
      const valid = results.every((r) => r.valid);
      if (opts.json) printJson(results.length === 1 ? results[0] : { valid, results });
      else for (const r of results) process.stdout.write(describe(r));
      process.exitCode = valid ? EXIT.ok : EXIT.failed;
    });
}

function validateFile(file: string, config: RuntimeConfig, agents: AgentRegistry): FileResult {
  const read = readJsonFile(file, config.maxEnvelopeBytes);
  if (!read.ok) return { file, valid: false, issues: read.issues, warnings: [] };
  const result = validateEnvelope(read.value, { registry: schemaRegistry(), maxBytes: config.maxEnvelopeBytes, routes: agents, unknownAgents: "warn" });
  return { file, valid: result.ok, issues: result.issues, warnings: result.warnings };
}

function describe(r: FileResult): string {
  const n = r.issues.length;
  const head = r.valid ? `✓ ${r.file}: valid envelope\n` : `✗ ${r.file}: invalid envelope (${n} problem${n === 1 ? "" : "s"})\n${formatIssues(r.issues)}\n`;
  return head + (r.warnings.length > 0 ? `  warnings:\n${formatIssues(r.warnings, "    ")}\n` : "");
}
