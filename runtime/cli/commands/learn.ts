/**
 * `agentbus learn --now`: a batch of the stored workflow records through the memory and learning
 * agents now, and the proposals it made. `agentbus learn --records <file> --dry-run`: the same
 * chain over a JSONL file, in this process, writing nothing.
 */
import type { Command } from "commander";
import { AgentbusError } from "../../errors/index.ts";
import { createLogger } from "../../log/logger.ts";
import { Runtime } from "../../runtime.ts";
import { learnDryRun, type DryRunResult } from "../../learn/dry-run.ts";
import { printable } from "../../learn/jsonl.ts";
import { learnNow, type LearnNowResult } from "../../learn/now.ts";
import type { ContentTypeMap } from "../../schemas/generated/index.ts";
import { configFrom } from "../context.ts";
import { secondsFlag } from "../flags.ts";
import { printJson } from "../output.ts";

interface LearnFlags {
  now?: boolean;
  records?: string;
  dryRun?: boolean;
  json?: boolean;
  timeout: string;
}

const HELP = `
Two ways to run the learning loop by hand:

  agentbus learn --now [--json] [--timeout s]
      Summarises the workflow records in the store that no batch holds yet (the memory agent) and
      mines them (the learning agent), now, instead of at the memory agent's schedule. The agents it
      needs are started in this process; a running \`agentbus start\` may take the work as well.
      Progress goes to stderr; the proposals of this report (new, or seen again) to stdout. Nothing
      waiting is not an error: "no workflow records wait for a batch", exit 0. Rules are proposed
      to the review queue only (see \`agentbus proposals\`, \`agentbus rules\`), never approved.

  agentbus learn --records <file.jsonl> --dry-run [--json]
      The same chain over a file: one workflow_record JSON object per line (blank lines are skipped
      silently). Each invalid line is reported on stderr as "line N: <reason>" and skipped, then the
      count of skipped lines. Nothing is written: no Redis, no store, no LLM (the miner's wording).
      The proposal queue is not consulted either, so every pattern found is proposed as new and
      rule ids are numbered from rule_<YYYYMMDD>_01. With --json, stdout is exactly the validated
      learning_report envelope.
`;

export function registerLearn(program: Command): void {
  program
    .command("learn")
    .description("run the learning loop now (--now), or try it on a file of workflow records (--records F --dry-run)")
    .option("--now", "summarise and mine the stored workflow records that wait for a batch, now")
    .option("--records <file>", "read workflow records from a JSONL file instead of the store (needs --dry-run)")
    .option("--dry-run", "with --records: run the chain in this process and write nothing")
    .option("--timeout <seconds>", "with --now: how long to wait for the learning report", "120")
    .option("--json", "print JSON (with --dry-run: exactly the learning_report envelope)")
    .addHelpText("after", HELP)
    .action(async (opts: LearnFlags) => {
      checkFlags(opts);
      const config = configFrom(program);
      const logger = createLogger(config.clientLogLevel, "agentbus", { format: config.logFormat });
      if (opts.records !== undefined) {
        const result = await learnDryRun({
          config,
          file: opts.records,
          logger,
          onInvalidLine: ({ line, reason }) => void process.stderr.write(`line ${line}: ${reason}\n`),
          onProgress: (line) => void process.stderr.write(`  ${line}\n`),
        });
        process.stderr.write(`${result.scan.invalid} line(s) skipped as invalid${result.scan.blank > 0 ? ` (and ${result.scan.blank} blank)` : ""}\n`);
        if (opts.json) printJson(result.report);
        else process.stdout.write(dryRunText(opts.records, result));
        return;
      }
      const timeoutS = secondsFlag("--timeout", opts.timeout);
      const runtime = await Runtime.open({ config, logger, mayStartEmbeddedRedis: true });
      try {
        const result = await learnNow(runtime, { timeoutMs: timeoutS * 1000, onProgress: (line) => void process.stderr.write(`  ${line}\n`) });
        if (opts.json) printJson(result);
        else process.stdout.write(nowText(result));
      } finally {
        await runtime.close();
      }
    });
}

function checkFlags(opts: LearnFlags): void {
  const usage = (message: string): never => {
    throw new AgentbusError("USAGE", `${message} (see agentbus learn --help)`);
  };
  if (opts.now && opts.records !== undefined) usage("--now and --records do not go together: --now learns from the store, --records from a file");
  if (opts.records !== undefined && !opts.dryRun) usage("--records needs --dry-run: records from a file are never written to the store, only tried");
  if (opts.dryRun && opts.records === undefined) usage(opts.now ? "--dry-run goes with --records <file>: --now always records its batch and proposals" : "--dry-run needs --records <file>");
  if (!opts.now && opts.records === undefined) usage("say what to learn from: --now (the store) or --records <file> --dry-run (a file)");
}

type Report = ContentTypeMap["learning_report"]["learning_report"];

function reportOf(env: { output: { content: unknown } }): Report {
  // The envelope passed the learning_report schema (the local runner or the bus validated it).
  return (env.output.content as ContentTypeMap["learning_report"]).learning_report;
}

function dryRunText(file: string, r: DryRunResult): string {
  const report = reportOf(r.report);
  const lines = [
    `dry run over ${file}: nothing was written, and the proposal queue was not consulted (every pattern is proposed as new).`,
    `batch ${r.batch.batch_id}: ${r.batch.records} record(s), ${r.batch.period_from?.toISOString() ?? "?"} → ${r.batch.period_to?.toISOString() ?? "?"}${r.scan.invalid > 0 ? ` (${r.scan.invalid} invalid line(s) skipped)` : ""}`,
    "",
    `patterns: ${report.patterns_identified}`,
    // Rule text quotes what the records held (categories are free text): printed escaped.
    ...(report.patterns ?? []).map((p) => `  ${printable(p.pattern_key ?? p.pattern_id)}  ×${p.occurrences}  ${printable(p.description)}`),
    "",
    `rules proposed: ${report.new_rules_proposed.length}`,
  ];
  for (const rule of report.new_rules_proposed) {
    lines.push(
      `  ${rule.rule_id}  ${rule.target_agent}  priority ${rule.priority}  confidence ${rule.confidence_score.toFixed(2)}`,
      `    trigger:     ${printable(rule.trigger_condition)}`,
      `    instruction: ${printable(rule.instruction)}`,
      `    effect:      ${rule.effect ? JSON.stringify(rule.effect) : "none (text only)"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function nowText(r: LearnNowResult): string {
  if (!r.batch || !r.report) return "no workflow records wait for a batch: nothing to learn from now (the memory agent writes one per finished session)\n";
  const report = reportOf(r.report);
  const lines = [
    `batch ${r.batch.batch_id}: ${r.batch.records} record(s), ${r.batch.period_from ?? "?"} → ${r.batch.period_to ?? "?"}`,
    `report ${r.report.message_id}: ${report.patterns_identified} pattern(s), ${r.proposals.filter((p) => p.status === "new").length} new proposal(s), ${r.proposals.filter((p) => p.status === "reobserved").length} seen again`,
  ];
  if (r.proposals.length > 0) {
    lines.push("");
    for (const p of r.proposals) {
      lines.push(`  ${p.rule_id}  ${(p.status === "new" ? "new" : "re-observed").padEnd(12)} ${p.state.padEnd(8)} ${p.target_agent.padEnd(15)} ${p.priority.padEnd(6)} ${p.confidence.toFixed(2)}  ${printable(JSON.stringify(p.trigger_condition.slice(0, 100)))}`);
    }
    lines.push("", "Review them with: agentbus proposals, agentbus rules show <rule_id> (or the review UI)");
  }
  return `${lines.join("\n")}\n`;
}
