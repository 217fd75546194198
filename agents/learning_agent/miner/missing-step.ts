/**
 * Missing derivation steps: in one request category, workflows that ran capability X straight
 * away failed at X, or paid far more for X, while the workflows of that category that ran Y just
 * before X did fine. The rule inserts Y before X for that category.
 *
 * Not a pattern: X failing (or costing) as much with Y before it as without; a comparison with a
 * single good workflow; a "good" order whose X itself fails often.
 */
import { patternKey, slug } from "./keys.ts";
import { fmtMs, mean, quote } from "./text.ts";
import type { Finding, MemorySummary, MinerContext } from "./types.ts";

type Order = NonNullable<MemorySummary["order_stats"]>[number];
type Step = Order["steps"][number];

const MIN_GOOD_WORKFLOWS = 2;
const MIN_FAIL_RATE = 0.5;
const MAX_GOOD_FAIL_RATE = 0.2;
/** X must cost this many times more without the step than with it. */
const MIN_COST_RATIO = 3;

interface Evidence {
  category: string;
  capability: string;
  insert: string;
  sameWay: number;
  ran: number;
  failed: number;
  costRatio: number;
  timeWasted: number;
  badInput: number;
  goodInput: number;
  goodWorkflows: number;
  sessions: string[];
  consistent: boolean;
}

export function mineMissingSteps(summary: MemorySummary, ctx: MinerContext): Finding[] {
  const byCategory = new Map<string, Order[]>();
  for (const o of summary.order_stats ?? []) byCategory.set(o.category, [...(byCategory.get(o.category) ?? []), o]);
  const merged = new Map<string, Evidence>();
  for (const [category, orders] of byCategory) {
    for (const bad of orders) {
      for (const capability of new Set(bad.order)) {
        const e = compare(category, bad, capability, orders);
        if (!e) continue;
        const key = patternKey("missing_step", slug(category), capability, e.insert);
        const known = merged.get(key);
        merged.set(key, known ? mergeEvidence(known, e) : e);
      }
    }
  }
  const out: Finding[] = [];
  for (const [key, e] of merged) if (e.sameWay >= ctx.minOccurrences) out.push(findingOf(key, e, summary.batch_id));
  return out;
}

function stepOf(o: Order, capability: string): Step | undefined {
  return o.steps.find((s) => s.capability === capability);
}

/** The best order of the category that ran one more capability just before `capability`. */
function compare(category: string, bad: Order, capability: string, orders: Order[]): Evidence | undefined {
  const x = stepOf(bad, capability);
  if (!x || x.tasks === 0) return undefined;
  const have = new Set(bad.order);
  let best: Evidence | undefined;
  for (const good of orders) {
    if (good === bad || good.workflows < MIN_GOOD_WORKFLOWS) continue;
    const extra = [...new Set(good.order)].filter((c) => !have.has(c));
    if (extra.length !== 1 || good.order.some((c) => !have.has(c) && c !== extra[0])) continue;
    const insert = extra[0] ?? "";
    const at = good.order.indexOf(capability);
    if (at < 1 || good.order[at - 1] !== insert) continue;
    const gx = stepOf(good, capability);
    if (!gx || gx.tasks === 0) continue;
    const e = judge(category, capability, insert, bad, x, good, gx);
    if (e && (!best || e.goodWorkflows > best.goodWorkflows)) best = e;
  }
  return best;
}

function judge(category: string, capability: string, insert: string, bad: Order, x: Step, good: Order, gx: Step): Evidence | undefined {
  const failRate = x.failed / x.tasks;
  const goodFailRate = gx.failed / gx.tasks;
  const cost = mean(x.duration_ms.sum, x.tasks);
  const goodCost = mean(gx.duration_ms.sum, gx.tasks);
  const costRatio = goodCost > 0 ? cost / goodCost : cost > 0 ? Number.POSITIVE_INFINITY : 1;
  const fails = failRate >= MIN_FAIL_RATE && goodFailRate <= MAX_GOOD_FAIL_RATE;
  // Costlier only counts when the whole workflow, the inserted step included, would be cheaper.
  const insertCost = mean(stepOf(good, insert)?.duration_ms.sum ?? 0, stepOf(good, insert)?.tasks ?? 0);
  const costs = costRatio >= MIN_COST_RATIO && goodFailRate <= MAX_GOOD_FAIL_RATE && cost > goodCost + insertCost;
  if (!fails && !costs) return undefined;
  // The same way: every failed X (for failures), or every X run when even the cheapest cost more.
  const consistent = fails ? true : x.duration_ms.min >= MIN_COST_RATIO * goodCost * 0.5;
  const sameWay = fails ? x.failed : x.tasks;
  return {
    category,
    capability,
    insert,
    sameWay,
    ran: x.tasks,
    failed: x.failed,
    costRatio: Number.isFinite(costRatio) ? costRatio : 0,
    timeWasted: Math.max(0, x.duration_ms.sum - goodCost * x.tasks),
    badInput: mean(x.input_chars, x.input_chars_tasks),
    goodInput: mean(gx.input_chars, gx.input_chars_tasks),
    goodWorkflows: good.workflows,
    sessions: [...bad.example_session_ids],
    consistent,
  };
}

function mergeEvidence(a: Evidence, b: Evidence): Evidence {
  return {
    ...a,
    sameWay: a.sameWay + b.sameWay,
    ran: a.ran + b.ran,
    failed: a.failed + b.failed,
    costRatio: Math.max(a.costRatio, b.costRatio),
    timeWasted: a.timeWasted + b.timeWasted,
    sessions: [...new Set([...a.sessions, ...b.sessions])].slice(0, 100),
    goodWorkflows: Math.max(a.goodWorkflows, b.goodWorkflows),
    consistent: a.consistent && b.consistent,
  };
}

function findingOf(key: string, e: Evidence, batchId: string): Finding {
  const failing = e.failed * 2 >= e.ran && e.failed > 0;
  const sizes = e.badInput > 0 && e.goodInput > 0 ? ` (inputs of ${Math.round(e.badInput)} characters on average, against ${Math.round(e.goodInput)} after ${e.insert})` : "";
  const what = failing
    ? `${e.failed} of ${e.ran} ${e.capability} task(s) failed when run without ${e.insert} first`
    : `${e.ran} ${e.capability} task(s) run without ${e.insert} first cost ${e.costRatio.toFixed(1)}× as much${sizes}, ${fmtMs(e.timeWasted)} in all beyond the cost with it`;
  const consistency = e.consistent ? 1 : 0.8;
  return {
    key,
    subkind: "missing_step",
    kind: "planning_inefficiency",
    sameWay: e.sameWay,
    consistency,
    costly: failing || e.costRatio >= 5 || e.timeWasted >= 60_000,
    target_agent: "planning_agent",
    trigger_condition: `When planning a request of category ${quote(e.category)} that uses ${e.capability}`,
    instruction: `Insert a ${e.insert} task before every ${e.capability} task, feeding ${e.capability} what ${e.insert} produces; it narrows or prepares the input and makes ${e.capability} ${failing ? "succeed" : "far cheaper"}.`,
    rationale: `Observed in ${batchId}: ${what}, while the ${e.goodWorkflows} workflow(s) of that category that ran ${e.insert} just before ${e.capability} did not have this problem.`,
    description: `${e.capability} needs ${e.insert} before it in ${e.category} requests`,
    effect: { op: "insert_before", capability: e.capability, insert: e.insert, category: e.category },
    evidence: {
      occurrences: e.sameWay,
      session_ids: e.sessions,
      batch_ids: [batchId],
      capability: e.capability,
      category: e.category,
      workflows: e.ran,
      failure_rate: e.ran > 0 ? Math.round((e.failed / e.ran) * 1000) / 1000 : 0,
      time_wasted_ms: Math.round(e.timeWasted),
      consistency,
      notes: `insert ${e.insert}; compared with ${e.goodWorkflows} workflow(s) that ran it`,
    },
  };
}
