/** `agentbus proposals`: the review queue as the learning agent filled it, straight from the store. */
import type { Command } from "commander";
import { AgentbusError } from "../../errors/index.ts";
import { printable } from "../../learn/jsonl.ts";
import { listProposals, type Proposal, type ProposalState } from "../../store/proposals.ts";
import { configFrom, withStore } from "../context.ts";
import { printJson } from "../output.ts";
import { textTable } from "../../text/table.ts";

const STATES: readonly ProposalState[] = ["pending", "approved", "rejected", "retired"];
const MAX_LIMIT = 10_000;

interface ProposalsFlags {
  json?: boolean;
  state?: string;
  target?: string;
  limit: string;
}

export function registerProposals(program: Command): void {
  program
    .command("proposals")
    .description("list the proposed memory rules in the review queue: pending first, then by priority and confidence")
    .option("--state <state>", `only proposals in this state: ${STATES.join(", ")}`)
    .option("--target <agent>", "only proposals for this agent (e.g. dispatch_agent)")
    .option("--limit <n>", `at most this many (1-${MAX_LIMIT})`, "200")
    .option("--json", "print JSON")
    .addHelpText("after", "\nThe learning agent proposes rules (on its schedule, or `agentbus learn --now`); a person approves,\nedits or rejects each (`agentbus rules`, or the review UI). \"re-observed\" counts the batches that\nobserved the pattern again after it was first proposed.")
    .action(async (opts: ProposalsFlags) => {
      const state = stateFlag(opts.state);
      const limit = limitFlag(opts.limit);
      const config = configFrom(program);
      const list = await withStore(config, (db) => listProposals(db, { ...(state ? { state } : {}), ...(opts.target !== undefined ? { target_agent: opts.target } : {}), limit }));
      if (opts.json) return printJson({ proposals: list.map(toJson) });
      if (list.length === 0) {
        const filtered = state !== undefined || opts.target !== undefined ? " matching these filters" : "";
        return void process.stdout.write(`no proposals${filtered}: the learning agent proposes rules when it mines a batch of workflow records (daily, or now with \`agentbus learn --now\`)\n`);
      }
      process.stdout.write(`${table(list)}\n`);
    });
}

function stateFlag(raw: string | undefined): ProposalState | undefined {
  if (raw === undefined) return undefined;
  const found = STATES.find((s) => s === raw);
  if (!found) throw new AgentbusError("USAGE", `--state must be one of ${STATES.join(", ")}, got ${JSON.stringify(raw)}`);
  return found;
}

function limitFlag(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new AgentbusError("USAGE", `--limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(raw)}`);
  return n;
}

function toJson(p: Proposal): Record<string, unknown> {
  return {
    rule_id: p.rule_id,
    state: p.state,
    target_agent: p.target_agent,
    priority: p.priority,
    confidence: p.confidence,
    observations: p.observations,
    reobserved: p.observations - 1,
    last_observed_at: p.last_observed_at.toISOString(),
    proposed_at: p.proposed_at.toISOString(),
    batch_id: p.batch_id,
    pattern_key: p.pattern_key,
    description: p.rule.trigger_condition,
    rule: p.rule,
  };
}

function table(list: readonly Proposal[]): string {
  const header = ["rule", "state", "target", "priority", "confidence", "re-observed", "last seen", "description"];
  const rows = list.map((p) => [
    p.rule_id,
    p.state,
    p.target_agent,
    p.priority,
    p.confidence.toFixed(2),
    String(p.observations - 1),
    p.last_observed_at.toISOString().slice(0, 16).replace("T", " "),
    printable(p.rule.trigger_condition.slice(0, 100)),
  ]);
  return textTable(header, rows);
}
