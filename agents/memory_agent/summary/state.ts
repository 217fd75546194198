/** The summary's running state: one bounded table per aggregate the learning agent mines. */
import { BoundedMap, moments, type Moments } from "./bounded.ts";

export interface ClusterState {
  capability: string;
  error_code: string;
  domain: string | null;
  occurrences: number;
  attempts_spent: number;
  failed: number;
  recovered: number;
  retryable: number;
  exhausted: number;
  retries_spent: number;
  max_recovered_attempts: number;
  duration_ms: number;
  examples: string[];
}

export interface StepState {
  capability: string;
  tasks: number;
  failed: number;
  duration: Moments;
  input_chars: number;
  input_chars_tasks: number;
}

export interface OrderState {
  category: string;
  order: string[];
  workflows: number;
  succeeded: number;
  failed: number;
  duration: Moments;
  succeededDuration: Moments;
  steps: Map<string, StepState>;
  examples: string[];
}

export interface CapabilityState {
  capability: string;
  tasks: number;
  succeeded: number;
  ran: number;
  duration_ms: number;
  input_chars: number;
  input_chars_tasks: number;
}

export interface RedundantState {
  capability: string;
  workflows: number;
  duplicate_tasks: number;
  workflows_with_capability: number;
  duration_ms: number;
  examples: string[];
}

export interface ContradictionState {
  kind: "fact" | "compute";
  subject_key: string;
  sources: string[];
  occurrences: number;
  examples: string[];
}

export interface PairState {
  sources: [string, string];
  workflows: number;
  contradicted: number;
}

export interface SummaryLimits {
  /** Distinct keys per table (the schema allows 1000 entries per list). */
  maxKeys: number;
  /** Example session ids kept per entry. */
  maxExamples: number;
}

export const DEFAULT_LIMITS: SummaryLimits = { maxKeys: 1000, maxExamples: 10 };

export class SummaryState {
  workflows = 0;
  tasks = 0;
  readonly workflowStatus = { success: 0, failed: 0, partial: 0 };
  readonly taskStatus = { succeeded: 0, failed: 0, skipped: 0 };
  readonly categories: BoundedMap<{ category: string; workflows: number; succeeded: number }>;
  readonly capabilities: BoundedMap<CapabilityState>;
  readonly clusters: BoundedMap<ClusterState>;
  readonly capabilityDomains: BoundedMap<{ capability: string; domain: string | null; tasks: number; failed: number }>;
  readonly orders: BoundedMap<OrderState>;
  readonly successfulOrders: BoundedMap<{ order: string[]; count: number }>;
  readonly failedOrders: BoundedMap<{ order: string[]; count: number }>;
  readonly redundant: BoundedMap<RedundantState>;
  readonly contradictions: BoundedMap<ContradictionState>;
  readonly pairs: BoundedMap<PairState>;
  readonly rules: BoundedMap<string>;

  constructor(readonly limits: SummaryLimits) {
    const cap = limits.maxKeys;
    this.categories = new BoundedMap(cap);
    this.capabilities = new BoundedMap(cap);
    this.clusters = new BoundedMap(cap);
    this.capabilityDomains = new BoundedMap(cap);
    this.orders = new BoundedMap(cap);
    this.successfulOrders = new BoundedMap(cap);
    this.failedOrders = new BoundedMap(cap);
    this.redundant = new BoundedMap(cap);
    this.contradictions = new BoundedMap(cap);
    this.pairs = new BoundedMap(cap);
    this.rules = new BoundedMap(cap);
  }

  /** Sizes of every table, for tests and for telling whether memory stayed bounded. */
  sizes(): Record<string, number> {
    const orderSteps = [...this.orders.values()].reduce((n, o) => n + o.steps.size, 0);
    return {
      categories: this.categories.size,
      capabilities: this.capabilities.size,
      error_clusters: this.clusters.size,
      capability_domains: this.capabilityDomains.size,
      order_stats: this.orders.size,
      order_steps: orderSteps,
      task_orders: this.successfulOrders.size + this.failedOrders.size,
      redundant_tasks: this.redundant.size,
      contradiction_clusters: this.contradictions.size,
      source_pairs: this.pairs.size,
      active_rules: this.rules.size,
    };
  }

  /** Observations dropped per table because it was full (only tables that dropped any). */
  overflow(): Record<string, number> {
    const tables: Record<string, BoundedMap<unknown>> = {
      categories: this.categories,
      capabilities: this.capabilities,
      error_clusters: this.clusters,
      capability_domains: this.capabilityDomains,
      order_stats: this.orders,
      successful_orders: this.successfulOrders,
      failed_orders: this.failedOrders,
      redundant_tasks: this.redundant,
      contradiction_clusters: this.contradictions,
      source_pairs: this.pairs,
      active_rules: this.rules,
    };
    const out: Record<string, number> = {};
    for (const [name, table] of Object.entries(tables)) if (table.overflow > 0) out[name] = table.overflow;
    return out;
  }
}

export function stepState(capability: string): StepState {
  return { capability, tasks: 0, failed: 0, duration: moments(), input_chars: 0, input_chars_tasks: 0 };
}
