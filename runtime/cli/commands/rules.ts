/**
 * `agentbus rules list|show|approve|reject|retire|rollback|promote`: the review decisions without a
 * browser, through the same ReviewService (same checks, same audit entries). Deciding needs
 * `--as <account>` and that account's password (stdin or prompt): the CLI names a person too.
 */
import type { Command } from "commander";
import { AgentbusError } from "../../errors/index.ts";
import { systemClock } from "../../envelope/clock.ts";
import { AuditWriter } from "../../store/audit-writer.ts";
import type { Db } from "../../store/db.ts";
import type { ProposalState } from "../../store/proposals.ts";
import { AccountStore } from "../../review/auth.ts";
import { reviewService } from "../../review/mount.ts";
import type { ReviewService } from "../../review/service.ts";
import type { Actor, DecisionResult } from "../../review/types.ts";
import { configFrom, withStore } from "../context.ts";
import { printJson } from "../output.ts";
import { readSecret } from "../read-secret.ts";

export function registerRules(program: Command): void {
  const rules = program.command("rules").description("review proposed memory rules (the same decisions as the review UI)");
  rules
    .command("list")
    .option("--state <state>", "pending | approved | rejected | retired")
    .option("--target <agent>", "only rules for this agent")
    .option("--json", "print JSON")
    .action(async (opts: { state?: string; target?: string; json?: boolean }) => {
      const config = configFrom(program);
      const list = await withStore(config, (db) => reviewService(config, db, undefined).list({ state: opts.state as ProposalState | undefined, target_agent: opts.target }));
      if (opts.json) return printJson({ rules: list });
      if (list.length === 0) return void process.stdout.write("no rules (the learning agent proposes them; see README \"Reviewing rules\")\n");
      for (const r of list) process.stdout.write(`${r.rule_id}  ${r.state.padEnd(8)} ${r.target_agent.padEnd(15)} ${r.priority.padEnd(6)} ${r.confidence.toFixed(2)}  v${r.active_version ?? "-"}${r.rollout_percent < 100 ? ` ${r.rollout_percent}%` : ""}  ${JSON.stringify(r.reviewable.trigger_condition.slice(0, 80))}\n`);
    });
  rules
    .command("show")
    .argument("<rule_id>")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }) => {
      const config = configFrom(program);
      const r = await withStore(config, (db) => reviewService(config, db, undefined).get(id));
      if (opts.json) return printJson({ rule: r });
      const c = r.reviewable;
      process.stdout.write(`${r.rule_id} (${r.state}) for ${r.target_agent}, priority ${r.priority}, confidence ${r.confidence}\ncontent hash ${r.reviewable_hash}\n\ntrigger:     ${JSON.stringify(c.trigger_condition)}\ninstruction: ${JSON.stringify(c.instruction)}\nrationale:   ${JSON.stringify(c.rationale)}\neffect:      ${JSON.stringify(c.effect ?? null)}\n\n`);
      for (const d of r.decisions) process.stdout.write(`${d.decided_at.toISOString()}  ${d.action.padEnd(11)} by ${d.actor}  v${d.version ?? "-"}  ${d.reason ?? ""}\n`);
    });
  const decision = (name: string, describe: string, extra: (c: Command) => Command, run: (s: ReviewService, a: Actor, id: string, o: Record<string, string>) => Promise<DecisionResult>) => {
    extra(rules.command(name).description(describe).argument("<rule_id>").requiredOption("--as <account>", "the reviewer account deciding (its password is asked)").option("--json", "print JSON")).action(async (id: string, opts: Record<string, string>) => {
      const config = configFrom(program);
      const password = await readSecret(`password for ${opts.as}: `);
      const result = await withStore(config, (db) => decide(db, config, opts.as ?? "", password, (s, a) => run(s, a, id, opts)));
      if (opts.json) return printJson(result);
      process.stdout.write(`${result.replayed ? "= already so:" : "✓"} ${result.decision.action} ${id} v${result.decision.version ?? "-"} by ${result.decision.actor}${result.decision.file_path ? ` → ${result.decision.file_path} (sha256 ${result.decision.file_sha256?.slice(0, 12)}…)` : ""}\n`);
    });
  };
  decision("approve", "approve the rule's current text (as shown by `rules show`)", (c) => c.option("--hash <content_hash>", "the content hash you reviewed (default: the current one)").option("--rollout <percent>", "apply to this share of sessions"), async (s, a, id, o) => s.approve(a, id, { content_hash: o.hash ?? (await s.get(id)).reviewable_hash, ...(o.rollout ? { rollout_percent: Number(o.rollout) } : {}) }));
  decision("reject", "reject a pending rule", (c) => c.requiredOption("--reason <text>", "why"), (s, a, id, o) => s.reject(a, id, { reason: o.reason ?? "" }));
  decision("retire", "retire an approved rule (its file is removed)", (c) => c.requiredOption("--reason <text>", "why"), (s, a, id, o) => s.retire(a, id, { reason: o.reason ?? "" }));
  decision("rollback", "put an earlier approved version back in force", (c) => c.requiredOption("--to <version>", "version number").requiredOption("--reason <text>", "why"), (s, a, id, o) => s.rollback(a, id, { to_version: Number(o.to), reason: o.reason ?? "" }));
  decision("promote", "change a gradual rollout's share (default: all sessions)", (c) => c.option("--rollout <percent>", "share", "100"), (s, a, id, o) => s.promote(a, id, { rollout_percent: Number(o.rollout ?? 100) }));
}

async function decide(db: Db, config: ReturnType<typeof configFrom>, name: string, password: string, fn: (s: ReviewService, a: Actor) => Promise<DecisionResult>): Promise<DecisionResult> {
  const acct = await new AccountStore(db, systemClock).authenticate(name, password);
  if (!acct) throw new AgentbusError("UNAUTHORIZED", `wrong account or password for ${name}`);
  const audit = new AuditWriter(db, { flushIntervalMs: 10 });
  try {
    return await fn(reviewService(config, db, audit), acct);
  } finally {
    await audit.close();
  }
}
