/** `agentbus new-agent <name>`: scaffold a plugin agent that loads and answers at once. */
import type { Command } from "commander";
import { relative } from "node:path";
import { scaffoldAgent } from "../../agents/scaffold.ts";
import { PROJECT_ROOT } from "../../paths.ts";
import { configFrom } from "../context.ts";
import { printJson } from "../output.ts";

export function registerNewAgent(program: Command): void {
  program
    .command("new-agent")
    .description("create agents/<name>/ with a spec, a worker and a test that pass at once")
    .argument("<name>", "lower snake_case, e.g. greeter_agent")
    .option("--type <type>", "the agent's type in its spec", "operational")
    .option("--description <text>", "first line of its instructions")
    .option("--json", "print the files written as JSON")
    .action((name: string, opts: { type: string; description?: string; json?: boolean }) => {
      const config = configFrom(program);
      const files = scaffoldAgent({ name, agentsDir: config.agentsDir, projectRoot: PROJECT_ROOT, type: opts.type, ...(opts.description ? { description: opts.description } : {}) });
      if (opts.json) {
        printJson({ agent: name, files });
        return;
      }
      const shown = files.map((f) => `  ${relative(process.cwd(), f)}`).join("\n");
      process.stdout.write(
        `✓ created ${name}:\n${shown}\n\nNext:\n  npx agentbus agents                    it is listed (or its problem is named)\n  npx vitest run ${relative(process.cwd(), files[2] ?? "")}   its test passes\n  npx agentbus start                     it runs with the others\n`,
      );
    });
}
