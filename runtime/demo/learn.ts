/**
 * What `agentbus demo --learn` prints after its learning run: the batch, the proposed rules, and
 * where a person reviews them (the review UI of `agentbus start`, or the CLI). Nothing is applied
 * until someone approves.
 */
import type { RuntimeConfig } from "../config/config.ts";
import type { LearnNowResult } from "../learn/now.ts";

export function learningSummary(learned: LearnNowResult, config: Pick<RuntimeConfig, "httpHost" | "httpPort">): string {
  const lines: string[] = [""];
  if (!learned.batch) {
    lines.push("Learning: no workflow records waited for a batch (they were summarised before).", "");
    return lines.join("\n");
  }
  const b = learned.batch;
  lines.push(`Learning: batch ${b.batch_id} of ${b.records} workflow record(s) (${b.period_from ?? "?"} to ${b.period_to ?? "?"}), session ${learned.session_id}`);
  if (learned.proposals.length === 0) {
    lines.push("  no pattern recurred enough to propose a rule.", "");
    return lines.join("\n");
  }
  lines.push(`  ${learned.proposals.length} rule(s) in the review queue; none applies until a reviewer approves it:`);
  for (const p of learned.proposals) {
    lines.push(`  ${p.rule_id}  ${p.status === "new" ? "new       " : "seen again"}  ${p.state.padEnd(8)} ${p.target_agent.padEnd(15)} ${p.priority.padEnd(6)} ${p.confidence.toFixed(2)}  ${JSON.stringify(p.trigger_condition.slice(0, 100))}`);
  }
  const first = learned.proposals.find((p) => p.state === "pending") ?? learned.proposals[0];
  const base = `http://${config.httpHost.includes(":") ? `[${config.httpHost}]` : config.httpHost}:${config.httpPort}`;
  lines.push(
    "",
    "Review them:",
    `  in the browser: ${base}/review  (served by \`npx agentbus start\`; first run: \`npx agentbus admin create <you>\`)`,
    `  or here:        npx agentbus rules show ${first?.rule_id ?? "<rule_id>"}`,
    `                  npx agentbus rules approve ${first?.rule_id ?? "<rule_id>"} --as <you>`,
    "Then run `npx agentbus demo` again: it prints the same traffic's before/after.",
    "",
  );
  return lines.join("\n");
}
