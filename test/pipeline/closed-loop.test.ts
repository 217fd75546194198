/**
 * The closed loop on real Redis and Postgres with the real agents in agents/, wired as `agentbus
 * start` wires them (rules loader on a memory folder, review UI and HTTP API):
 *
 *   demo traffic (3 rounds: the always-429 host exhausts its retries 3 times)
 *   → a manual batch_request to the memory agent, as the scheduler sends one → memory_summary
 *   → learning_agent's learning_report → the review queue holds one rule: fail fast on that host
 *   → a reviewer approves it through /api/rules (login, CSRF token, the content hash shown)
 *   → the loader applies the file → the same traffic again: the always-429 task spends 1 attempt,
 *     every other request ends as before, and the always-429 sessions' records name the rule.
 *
 * The retry counts before and after are printed (they go in the closing note).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { demoRequests, runDemo, type DemoOutcome } from "../../runtime/demo/run-demo.ts";
import { AccountStore } from "../../runtime/review/auth.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { RuleSummary } from "../../runtime/review/types.ts";
import { API_TOKEN, openLivePipeline, type LivePipeline } from "../helpers/live-rules.ts";
import type { WorkflowRecordLike } from "../helpers/pipeline.ts";

const PASSWORD = "closed loop reviewer password";
const ROUNDS_BEFORE = 3;

let p: LivePipeline;
let limitedHost: string;
const otherHosts: string[] = [];

beforeAll(async () => {
  p = await openLivePipeline("closedloop", { http: true });
  limitedHost = new URL(p.site.limited).hostname;
  for (const u of [p.site.main, p.site.busy, p.site.slow]) otherHosts.push(new URL(u).hostname);
  await new AccountStore(p.db, systemClock).create("rita", "reviewer", PASSWORD);
}, 60_000);
afterAll(async () => {
  await p?.close();
});

interface Round {
  outcomes: DemoOutcome[];
  records: Map<string, WorkflowRecordLike>;
}

/** One round of the demo traffic, with each session's workflow record. */
async function round(): Promise<Round> {
  const service = p.runtime.requestService();
  const outcomes = await runDemo(service, demoRequests(p.site), { timeoutMs: 90_000 });
  const records = new Map<string, WorkflowRecordLike>();
  for (const o of outcomes) {
    expect(o.status, `${o.label} finished`).not.toBe("unfinished");
    const r = (await service.workflowRecord(o.session_id)) as WorkflowRecordLike | null;
    expect(r, `${o.label} has a workflow record`).not.toBeNull();
    records.set(o.label, r!);
  }
  return { outcomes, records };
}

/** The always-429 session's fetch task in a round. */
function limitedFetch(r: Round): WorkflowRecordLike["tasks"][number] {
  const t = r.records.get("429 always")!.tasks.find((x) => x.capability === "fetch" && x.domain === limitedHost);
  expect(t, "the always-429 session ran a fetch on its host").toBeDefined();
  return t!;
}

const retriesOf = (t: { attempts: number }): number => t.attempts - 1;
const outcomeOf = (r: Round): Record<string, { status: string; errors: string[] }> => Object.fromEntries(r.outcomes.map((o) => [o.label, { status: o.status, errors: o.error_codes }]));

async function api<T>(path: string, init: { method?: string; body?: unknown; cookie?: string; csrf?: string } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.cookie) headers.cookie = init.cookie;
  else headers.authorization = `Bearer ${API_TOKEN}`;
  if (init.csrf) headers["x-csrf-token"] = init.csrf;
  const res = await fetch(`${p.url}${path}`, { method: init.method ?? "GET", headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}

describe("the closed loop: demo traffic → learning → review → rules in force → fewer retries", () => {
  const before: Round[] = [];
  let after: Round;
  let ruleId: string;

  it(`runs the demo traffic ${ROUNDS_BEFORE} times: the always-429 host exhausts its retries every time`, async () => {
    for (let i = 0; i < ROUNDS_BEFORE; i++) before.push(await round());
    for (const r of before) {
      expect(limitedFetch(r)).toMatchObject({ status: "failed", attempts: 3, error_code: "HTTP_429" });
      expect(r.records.get("429 always")!.rules_applied).toEqual([]);
    }
    expect(before.map((r) => outcomeOf(r)["429 then ok"]?.status)).toEqual(["success", "success", "success"]);
  }, 240_000);

  it("a manual batch_request to the memory agent gives a learning_report; the queue holds one fail-fast rule, for the always-429 host, and no rule on how other hosts are fetched", async () => {
    const env = buildRequest({ source: "batch_scheduler", content_type: "batch_request", content: { trigger: "manual" }, to: "memory_agent", session_id: "batch-closedloop-manual", request_id: "batch_run" }, { clock: systemClock, timezone: p.runtime.config.timezone });
    expect((await p.runtime.bus.publish(env, "batch_scheduler")).accepted).toBe(true);
    const summary = await p.events.waitFor((e) => e.agent === "memory_agent" && (e.envelope as Envelope).output?.content_type === "memory_summary", 30_000);
    expect((summary.envelope as Envelope).output.content).toMatchObject({ counts: { workflows: ROUNDS_BEFORE * demoRequests(p.site).length } });
    const report = await p.events.waitFor((e) => e.agent === "learning_agent" && (e.envelope as Envelope).output?.content_type === "learning_report", 30_000);
    expect(report.issues).toEqual([]);

    const pending = await api<{ rules: RuleSummary[] }>("/api/rules?state=pending");
    expect(pending.status).toBe(200);
    const rules = pending.body.rules;
    console.log(`closed-loop proposals: ${JSON.stringify(rules.map((r) => ({ rule_id: r.rule_id, target: r.target_agent, effect: r.reviewable.effect, trigger: r.reviewable.trigger_condition, confidence: r.confidence })))}`);
    const failFast = rules.filter((r) => {
      const e = r.reviewable.effect;
      return e?.op === "no_retry" && e.match.capability === "fetch" && e.match.error_code === "HTTP_429" && e.match.domain === limitedHost;
    });
    expect(failFast).toHaveLength(1);
    expect(failFast[0]!.target_agent).toBe("dispatch_agent");
    ruleId = failFast[0]!.rule_id;
    // Nothing else: the "two sources" request's recurring contradiction is between two pages of one
    // host, which a rule could not name apart (the miner proposes none for it).
    expect(rules.map((r) => r.rule_id)).toEqual([ruleId]);
    for (const r of failFast) for (const host of otherHosts) expect(JSON.stringify(r).includes(host), `${r.rule_id} mentions ${host}`).toBe(false);
  }, 90_000);

  it("approved through /api/rules by a reviewer (session cookie, CSRF token, content hash), the loader applies it", async () => {
    const login = await fetch(`${p.url}/api/rules/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "rita", password: PASSWORD }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const csrf = ((await login.json()) as { csrf_token: string }).csrf_token;
    const shown = await api<{ rule: { reviewable_hash: string } }>(`/api/rules/${ruleId}`, { cookie });
    // Without the CSRF token the approval is refused; with it, it is made.
    expect((await api(`/api/rules/${ruleId}/approve`, { method: "POST", cookie, body: { content_hash: shown.body.rule.reviewable_hash } })).status).toBe(403);
    const t0 = Date.now();
    const approved = await api<{ decision: { action: string; actor: string; file_path: string } }>(`/api/rules/${ruleId}/approve`, { method: "POST", cookie, csrf, body: { content_hash: shown.body.rule.reviewable_hash } });
    expect(approved.status).toBe(201);
    expect(approved.body.decision).toMatchObject({ action: "approve", actor: "rita" });
    const target = approved.body.decision.file_path.split("/").at(-2)!;
    await p.untilRules(target, (rs) => rs.some((r) => r.rule_id === ruleId), 15_000);
    console.log(`closed-loop approval (POST /api/rules/${ruleId}/approve) to rule in force in the loader: ${Date.now() - t0} ms`);
    const files = await api<{ files: Array<{ rule_id: string; state: string }> }>("/api/rules/files");
    expect(files.body.files).toEqual([expect.objectContaining({ rule_id: ruleId, state: "applied" })]);
  }, 60_000);

  it("the same traffic again: the always-429 task spends 1 attempt and names the rule; every other request ends as before", async () => {
    after = await round();
    expect(limitedFetch(after)).toMatchObject({ status: "failed", attempts: 1, error_code: "HTTP_429" });
    expect(after.records.get("429 always")!.rules_applied).toEqual([ruleId]);
    const last = outcomeOf(before.at(-1)!);
    const now = outcomeOf(after);
    for (const label of Object.keys(last)) expect(now[label], label).toEqual(last[label]);
    for (const [label, r] of after.records) if (label !== "429 always") expect(r.rules_applied, label).toEqual([]);

    const retriesBefore = before.map((r) => retriesOf(limitedFetch(r)));
    const retriesAfter = retriesOf(limitedFetch(after));
    expect(retriesBefore).toEqual([2, 2, 2]);
    expect(retriesAfter).toBe(0);
    const allRetries = (r: Round): number => [...r.records.values()].reduce((s, rec) => s + rec.tasks.reduce((a, t) => a + Math.max(0, t.attempts - 1), 0), 0);
    console.log(
      `closed-loop retries on the always-429 task: before ${JSON.stringify(retriesBefore)} (attempts ${JSON.stringify(before.map((r) => limitedFetch(r).attempts))}), after ${retriesAfter} (attempts ${limitedFetch(after).attempts}); ` +
        `all retries per round: before ${JSON.stringify(before.map(allRetries))}, after ${allRetries(after)}; rule ${ruleId}`,
    );
  }, 120_000);
});
