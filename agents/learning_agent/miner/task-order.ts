/**
 * Costly orders: in one request category, the same capabilities planned in another order cost
 * clearly more than the cheapest order seen, without succeeding more often. The rule makes the
 * planner prefer the cheap order for that category.
 *
 * Not a pattern: orders whose costs differ within their spread (Welch's t below 3), by less than
 * half again, a cheap order seen once, or a cheap order that succeeds clearly less often.
 */
import { patternKey, slug } from "./keys.ts";
import { fmtMs, mean, quote, variance } from "./text.ts";
import type { Finding, MemorySummary, MinerContext } from "./types.ts";

type Order = NonNullable<MemorySummary["order_stats"]>[number];

const MIN_RATIO = 1.5;
const MIN_T = 3;
const MIN_CHEAP_WORKFLOWS = 2;
const MAX_SUCCESS_GAP = 0.3;

export function mineTaskOrders(summary: MemorySummary, ctx: MinerContext): Finding[] {
  const groups = new Map<string, Order[]>();
  for (const o of summary.order_stats ?? []) {
    if (o.order.length < 2) continue;
    const k = `${o.category}\u0000${[...o.order].sort().join(">")}`;
    groups.set(k, [...(groups.get(k) ?? []), o]);
  }
  const out: Finding[] = [];
  for (const orders of groups.values()) {
    if (orders.length < 2) continue;
    const cheap = cheapest(orders);
    if (!cheap) continue;
    const worse = orders.filter((o) => o !== cheap && isWorse(o, cheap));
    const sameWay = worse.reduce((n, o) => n + o.workflows, 0);
    if (worse.length === 0 || sameWay < ctx.minOccurrences) continue;
    out.push(findingOf(cheap, worse, summary.batch_id));
  }
  return out;
}

/**
 * What an order costs when it works: the successful workflows' durations when the summary has
 * them (a run that failed early is cheap for the wrong reason), else all workflows'.
 */
interface Cost {
  n: number;
  sum: number;
  sum_sq: number;
  min: number;
  max: number;
}

function costOf(o: Order): Cost {
  const ok = o.succeeded_duration_ms;
  if (ok && o.succeeded > 0) return { n: o.succeeded, ...ok };
  return { n: o.workflows, ...o.duration_ms };
}

const meanCost = (o: Order): number => {
  const c = costOf(o);
  return mean(c.sum, c.n);
};
const successRate = (o: Order): number => o.succeeded / o.workflows;

function cheapest(orders: Order[]): Order | undefined {
  return orders.filter((o) => costOf(o).n >= MIN_CHEAP_WORKFLOWS).sort((a, b) => meanCost(a) - meanCost(b))[0];
}

function isWorse(o: Order, cheap: Order): boolean {
  const m = meanCost(o);
  const c = meanCost(cheap);
  // A cheap order that is cheap because it fails is no better: it may not succeed clearly less often.
  if (m < MIN_RATIO * c || successRate(cheap) + MAX_SUCCESS_GAP < successRate(o)) return false;
  const a = costOf(o);
  const b = costOf(cheap);
  const se = Math.sqrt(variance(a.sum, a.sum_sq, a.n) / a.n + variance(b.sum, b.sum_sq, b.n) / b.n);
  return se === 0 ? m > c : (m - c) / se >= MIN_T;
}

function findingOf(cheap: Order, worse: Order[], batchId: string): Finding {
  const sameWay = worse.reduce((n, o) => n + o.workflows, 0);
  const c = meanCost(cheap);
  const wasted = worse.reduce((n, o) => n + Math.max(0, costOf(o).sum - c * costOf(o).n), 0);
  const worstRatio = Math.max(...worse.map((o) => meanCost(o) / Math.max(1, c)));
  // The same way: every run of a costly order cost more than the cheap order's dearest run.
  const consistency = worse.every((o) => costOf(o).min > costOf(cheap).max) ? 1 : 0.8;
  const category = cheap.category;
  const others = worse.map((o) => o.order.join(" → ")).join("; ");
  return {
    key: patternKey("task_order", slug(category), [...cheap.order].sort().join("+")),
    subkind: "task_order",
    kind: "planning_inefficiency",
    sameWay,
    consistency,
    // Relative waste: deployments differ in scale, an order that doubles the cost is costly anywhere.
    costly: worstRatio >= 2,
    target_agent: "planning_agent",
    trigger_condition: `When planning a request of category ${quote(category)} with the capabilities ${[...new Set(cheap.order)].join(", ")}`,
    instruction: `Order the tasks as ${cheap.order.join(" → ")}.`,
    rationale:
      `Observed in ${batchId}: ${sameWay} workflow(s) ordered ${others} cost ${worstRatio.toFixed(1)}× as much on average ` +
      `(${fmtMs(wasted)} in all beyond it) as the ${cheap.workflows} ordered ${cheap.order.join(" → ")} (${fmtMs(c)} each), which succeeded about as often.`,
    description: `${cheap.order.join(" → ")} is the cheap order for ${category} requests`,
    // Grouped orders have two or more capabilities (shorter ones are skipped above).
    effect: { op: "prefer_order", order: [...cheap.order] as [string, string, ...string[]], category },
    evidence: {
      occurrences: sameWay,
      session_ids: [...new Set(worse.flatMap((o) => o.example_session_ids))].slice(0, 100),
      batch_ids: [batchId],
      category,
      order: [...cheap.order],
      workflows: sameWay + cheap.workflows,
      time_wasted_ms: Math.round(wasted),
      consistency,
    },
  };
}
