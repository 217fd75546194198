/** The `agentbus` command line. Each command lives in commands/; this file only wires them. */
import { Command, CommanderError } from "commander";
import { registerAgents } from "./commands/agents.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerTrace } from "./commands/trace.ts";
import { registerSubmit } from "./commands/submit.ts";
import { registerNewAgent } from "./commands/new-agent.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerDeadLetters } from "./commands/dead-letters.ts";
import { registerSend } from "./commands/send.ts";
import { registerStart } from "./commands/start.ts";
import { registerValidate } from "./commands/validate.ts";
import { registerRules } from "./commands/rules.ts";
import { registerAdmin } from "./commands/admin.ts";
import { registerSchedules } from "./commands/schedules.ts";
import { registerLearn } from "./commands/learn.ts";
import { registerProposals } from "./commands/proposals.ts";
import { EXIT, ignoreClosedPipes, reportError } from "./output.ts";

export function buildProgram(): Command {
  const program = new Command("agentbus")
    .description("A runtime for governed multi-agent systems: agents on BullMQ exchanging validated envelopes.")
    .option("--agents-dir <dir>", "the agents folder (default: $AGENTBUS_AGENTS_DIR or ./agents)")
    .option("--root <dir>", "the deployment root holding agents/, context/, governance/ (default: $AGENTBUS_ROOT)")
    .option("--prefix <prefix>", "Redis key prefix for the queues (default: $AGENTBUS_QUEUE_PREFIX or agentbus)")
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      "after",
      "\nEnvironment: REDIS_URL, DATABASE_URL, AGENTBUS_TIMEZONE (IANA, default UTC), AGENTBUS_DATA_DIR,\nAGENTBUS_TOPOLOGY, LOG_LEVEL. Run `agentbus <command> --help` for a command's options.",
    );
  registerValidate(program);
  registerAgents(program);
  registerStart(program);
  registerSubmit(program);
  registerSend(program);
  registerDeadLetters(program);
  registerTrace(program);
  registerAudit(program);
  registerNewAgent(program);
  registerDemo(program);
  registerRules(program);
  registerAdmin(program);
  registerSchedules(program);
  registerLearn(program);
  registerProposals(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return reportError(err, json);
  }
}

ignoreClosedPipes();
const code = await main(process.argv);
process.exitCode = code;
