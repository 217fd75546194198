/**
 * An agents folder for the memory batch and schedule tests: the real memory_agent (its spec copied,
 * its worker re-exported by absolute path: vitest does not follow a linked folder's imports) and a
 * stand-in learning_agent that accepts memory_summary and answers nothing (the real one is written
 * elsewhere; these tests check what reaches it, not what it does).
 */
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import type { WorkflowRecordInput } from "../../runtime/store/index.ts";

export function batchAgentsDir(): { dir: string; remove: () => void } {
  // Inside the project (test-artifacts/ is ignored): spec paths are repo-relative in the audit block.
  mkdirSync(join(PROJECT_ROOT, "test-artifacts"), { recursive: true });
  const dir = mkdtempSync(join(PROJECT_ROOT, "test-artifacts", "batch-agents-"));
  const memory = join(dir, "memory_agent");
  mkdirSync(memory);
  copyFileSync(join(PROJECT_ROOT, "agents", "memory_agent", "memory_agent.md"), join(memory, "memory_agent.md"));
  writeFileSync(join(memory, "worker.ts"), `export { handler } from ${JSON.stringify(join(PROJECT_ROOT, "agents", "memory_agent", "worker.ts"))};\n`);
  const learning = join(dir, "learning_agent");
  mkdirSync(learning);
  writeFileSync(
    join(learning, "learning_agent.md"),
    "---\nname: learning_agent\ntype: operational\naccepts: { sources: [memory_agent, batch_scheduler], content_types: [memory_summary] }\nemits: { content_types: [learning_report], next_agents: [COMPLETE] }\n---\nStand-in.\n",
  );
  writeFileSync(join(learning, "worker.ts"), "export const handler = async () => null;\n");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let serial = 0;
/** A valid workflow record finished at `finishedAt`; `failed` gives it a failed fetch. */
export function workflowRecord(finishedAt: string, status: "success" | "failed" = "success"): WorkflowRecordInput {
  serial += 1;
  const ok = status === "success";
  return {
    session_id: `s-mb${String(serial).padStart(6, "0")}`,
    request_id: `r-mb${serial}`,
    request: { text: "fetch it", category: "text" },
    started_at: "2026-03-01T00:00:00.000Z",
    finished_at: finishedAt,
    status,
    plan: [{ task_id: "t1", capability: "fetch", depends_on: [] }],
    tasks: [ok ? { task_id: "t1", capability: "fetch", status: "succeeded", attempts: 1, recoverable: false } : { task_id: "t1", capability: "fetch", status: "failed", attempts: 1, error_code: "HTTP_404", domain: "gone.example", recoverable: false }],
    rules_applied: [],
  };
}
