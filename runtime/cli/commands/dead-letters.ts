/** `agentbus dead-letters [list|show|replay]`: inspect refused and failed messages, and replay them. */
import type { Command } from "commander";
import { clientRuntime, configFrom } from "../context.ts";
import { EXIT, formatIssues, printJson } from "../output.ts";
import { positiveIntFlag } from "../flags.ts";
import { readJsonFile } from "../read-json.ts";
import type { DeadLetter } from "../../bus/dead-letter.ts";

export function registerDeadLetters(program: Command): void {
  const dl = program
    .command("dead-letters")
    .description("list dead letters with their reasons; `show <id>`, `replay <id>`")
    .option("--json", "print as JSON")
    .option("--limit <n>", "how many to list", "50")
    .action(async (opts: { json?: boolean; limit: string }) => listDeadLetters(program, opts));

  dl.command("list")
    .description("list dead letters (newest first) with their reasons")
    .option("--json", "print as JSON")
    .option("--limit <n>", "how many to list", "50")
    .action(async (opts: { json?: boolean; limit: string }) => listDeadLetters(program, opts));

  dl.command("show")
    .description("print one dead letter in full, envelope included")
    .argument("<id>")
    .action(async (id: string) => {
      const runtime = await clientRuntime(configFrom(program));
      try {
        printJson(await runtime.bus.deadLetters.get(id));
      } finally {
        await runtime.close();
      }
    });

  dl.command("replay")
    .description("re-publish a dead letter after a fix (to an agent spec, or to the message with --file)")
    .argument("<id>")
    .option("--file <fixed.json>", "publish this corrected envelope instead of the stored one")
    .option("--json", "print the result as JSON")
    .action(async (id: string, opts: { file?: string; json?: boolean }) => {
      const config = configFrom(program);
      let fixed: unknown;
      if (opts.file) {
        const read = readJsonFile(opts.file, config.maxEnvelopeBytes);
        if (!read.ok) {
          process.stderr.write(`✗ ${opts.file}: ${read.message}\n`);
          process.exitCode = EXIT.failed;
          return;
        }
        fixed = read.value;
      }
      const runtime = await clientRuntime(config);
      try {
        const result = await runtime.bus.replay(id, fixed);
        if (opts.json) printJson(result);
        else if (result.replayed) process.stdout.write(`✓ replayed ${result.message_id} → ${result.queue ?? "COMPLETE"}; dead letter ${id} removed\n`);
        else process.stdout.write(`✗ still invalid; dead letter ${id} kept\n${formatIssues(result.issues)}\n`);
        process.exitCode = result.replayed ? EXIT.ok : EXIT.failed;
      } finally {
        await runtime.close();
      }
    });
}

async function listDeadLetters(program: Command, opts: { json?: boolean; limit: string }): Promise<void> {
  const limit = positiveIntFlag("--limit", opts.limit);
  const runtime = await clientRuntime(configFrom(program));
  try {
    const [letters, total] = await Promise.all([runtime.bus.deadLetters.list(limit), runtime.bus.deadLetters.count()]);
    if (opts.json) {
      printJson({ total, dead_letters: letters });
      return;
    }
    process.stdout.write(`${total} dead letter(s)${total > letters.length ? `, showing ${letters.length}` : ""}\n`);
    for (const l of letters) process.stdout.write(describe(l));
  } finally {
    await runtime.close();
  }
}

function describe(l: DeadLetter): string {
  const head = `\n${l.id}\n  ${l.at}  stage ${l.stage}${l.agent ? ` by ${l.agent}` : ""}${l.queue ? ` → ${l.queue}` : ""}  message ${l.message_id ?? "(no id)"}\n`;
  const err = l.error ? `  ${l.error.code}: ${l.error.message}\n` : "";
  return head + err + (l.issues.length ? `${formatIssues(l.issues, "    ")}\n` : "");
}
