/** `agentbus send <file.json>`: publish an envelope; refused ones are dead-lettered and explained. */
import type { Command } from "commander";
import { clientRuntime, configFrom } from "../context.ts";
import { EXIT, formatIssues, printJson } from "../output.ts";
import { readJsonFile } from "../read-json.ts";

export function registerSend(program: Command): void {
  program
    .command("send")
    .description("publish an envelope onto the bus (validated first; refused messages go to the dead-letter queue)")
    .argument("<file>", "an envelope as a JSON file")
    .option("--json", "print the result as JSON")
    .action(async (file: string, opts: { json?: boolean }) => {
      const config = configFrom(program);
      const read = readJsonFile(file, config.maxEnvelopeBytes);
      if (!read.ok) {
        if (opts.json) printJson({ accepted: false, issues: [{ pointer: "", message: read.message, rule: "guard" }] });
        else process.stderr.write(`✗ ${file}: ${read.message}\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      const runtime = await clientRuntime(config);
      try {
        const result = await runtime.bus.publish(read.value, "cli");
        if (opts.json) printJson(result);
        else if (result.accepted && result.duplicate) process.stdout.write(`✓ already published ${result.message_id} → ${result.queue ?? "COMPLETE"}; not sent again\n`);
        else if (result.accepted) process.stdout.write(`✓ published ${result.message_id} → ${result.queue ?? "COMPLETE"}\n`);
        else process.stdout.write(`✗ refused; dead letter ${result.dead_letter_id}\n${formatIssues(result.issues)}\n`);
        process.exitCode = result.accepted ? EXIT.ok : EXIT.failed;
      } finally {
        await runtime.close();
      }
    });
}
