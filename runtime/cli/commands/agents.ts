/** `agentbus agents`: what is loaded, what it accepts and sends, and which folders are broken. */
import type { Command } from "commander";
import { agentsFrom, configFrom } from "../context.ts";
import { EXIT, printJson } from "../output.ts";

export function registerAgents(program: Command): void {
  program
    .command("agents")
    .description("list the agents found in the agents folder, their queues and routes, and broken folders")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }) => {
      const config = configFrom(program);
      const agents = await agentsFrom(config);
      const rows = agents.list().map((a) => ({
        name: a.name,
        type: a.spec.type,
        queue: `${config.queuePrefix}:${a.name}`,
        concurrency: a.spec.concurrency ?? 1,
        accepts: a.spec.accepts,
        emits: a.spec.emits,
        governance: a.governance.map((g) => g.path),
        spec: a.specPath,
        ...(a.spec.schedule ? { schedule: a.spec.schedule } : {}),
      }));
      if (opts.json) {
        printJson({ agents_dir: config.agentsDir, agents: rows, broken: agents.broken });
      } else {
        process.stdout.write(`agents in ${config.agentsDir}: ${rows.length} loaded, ${agents.broken.length} broken\n`);
        for (const r of rows) {
          process.stdout.write(
            `\n${r.name} (${r.type}, concurrency ${r.concurrency})\n` +
              `  queue     ${r.queue}\n` +
              `  accepts   ${r.accepts.content_types.join(", ")} from ${r.accepts.sources.join(", ")}\n` +
              `  emits     ${r.emits.content_types.join(", ")} to ${r.emits.next_agents.join(", ")}\n` +
              (r.governance.length ? `  governance ${r.governance.join(", ")}\n` : ""),
          );
        }
        for (const b of agents.broken) process.stdout.write(`\nBROKEN ${b.folder}: ${b.file}: ${b.error}\n`);
      }
      process.exitCode = agents.broken.length > 0 ? EXIT.failed : EXIT.ok;
    });
}
