/**
 * Chaining capabilities by artifact types. From the types a branch already has, `cheapest` finds
 * for every reachable type the capability that yields it in the fewest tasks (a breadth-first
 * relaxation over the capability hypergraph: a capability becomes usable once all of its required
 * inputs are reachable). Ties go to the capability listed first in the catalog, so plans are stable.
 * `Branch` then materialises the chosen chain as plan tasks, sharing what it already built.
 */
import type { Capability, CapabilityCatalog } from "../../../runtime/agent-api.ts";
import { reference, type JsonObject, type JsonValue, type PlanTask } from "../../_shared/plan/plan.ts";
import { requiredInputs } from "../../_shared/plan/validate-plan.ts";

export type ArtifactType = string;

/** Where a branch gets an artifact from: a literal the request gave, or a task's output field. */
export type Source = { kind: "literal"; value: JsonValue } | { kind: "task"; task_id: string; field: string };

interface Producer {
  cost: number;
  capability: Capability;
}

/** Every type reachable from `available`, with its cheapest producer (given types cost 0, no producer). */
export function cheapest(available: Iterable<ArtifactType>, capabilities: readonly Capability[]): Map<ArtifactType, Producer | null> {
  const best = new Map<ArtifactType, Producer | null>();
  const cost = (t: ArtifactType): number => (best.has(t) ? (best.get(t)?.cost ?? 0) : Infinity);
  for (const t of available) best.set(t, null);
  for (let changed = true; changed; ) {
    changed = false;
    for (const capability of capabilities) {
      const inputs = requiredTypes(capability);
      if (inputs.some((t) => !Number.isFinite(cost(t)))) continue;
      const total = 1 + inputs.reduce((sum, t) => sum + cost(t), 0);
      for (const t of Object.values(capability.produces)) {
        if (total < cost(t)) {
          best.set(t, { cost: total, capability });
          changed = true;
        }
      }
    }
  }
  return best;
}

/** The artifact types of a capability's required inputs (an input without a declared type is ignored). */
export function requiredTypes(capability: Capability): ArtifactType[] {
  return requiredInputs(capability)
    .map((field) => capability.consumes[field])
    .filter((t): t is string => t !== undefined);
}

/** Collects the plan's tasks across branches, numbering them t1, t2, … in the order they are made. */
export class TaskList {
  readonly tasks: PlanTask[] = [];
  add(capability: string, inputs: JsonObject, dependsOn: readonly string[]): string {
    const task_id = `t${this.tasks.length + 1}`;
    this.tasks.push({ task_id, capability, inputs, depends_on: [...new Set(dependsOn)] });
    return task_id;
  }
}

/** One independent line of work (e.g. everything done with one URL). */
export class Branch {
  private readonly available = new Map<ArtifactType, Source>();
  private readonly capabilities: Capability[];
  /** Tasks this branch added, in order. */
  readonly taskIds: string[] = [];

  constructor(
    private readonly list: TaskList,
    catalog: CapabilityCatalog,
    givens: ReadonlyMap<ArtifactType, JsonValue>,
  ) {
    this.capabilities = catalog.list();
    for (const [type, value] of givens) this.available.set(type, { kind: "literal", value });
  }

  has(type: ArtifactType): boolean {
    return this.available.has(type);
  }

  /** Whether `type` is available or could be produced from what is available. */
  canReach(type: ArtifactType): boolean {
    return cheapest(this.available.keys(), this.capabilities).has(type);
  }

  /** Whether every required input of `capability` is reachable. */
  canRun(capability: Capability): boolean {
    const reach = cheapest(this.available.keys(), this.capabilities);
    return requiredTypes(capability).every((t) => reach.has(t));
  }

  /** The source of `type`, adding the shortest chain of tasks that yields it; null when unreachable. */
  materialize(type: ArtifactType): Source | null {
    const existing = this.available.get(type);
    if (existing) return existing;
    const producers = cheapest(this.available.keys(), this.capabilities);
    if (!producers.has(type)) return null;
    return this.build(type, producers);
  }

  /** Runs `capability` as the branch's next step (inputs wired from the latest producers); its id, or null. */
  run(capability: Capability): string | null {
    if (!this.canRun(capability)) return null;
    const inputs: JsonObject = {};
    const deps: string[] = [];
    for (const [field, type] of Object.entries(capability.consumes)) {
      const required = requiredInputs(capability).includes(field);
      // Optional inputs are filled only from what the request itself gave (no extra tasks for them).
      const source = required ? this.materialize(type) : literalOnly(this.available.get(type));
      if (!source) continue;
      inputs[field] = this.wire(capability, field, source);
      if (source.kind === "task") deps.push(source.task_id);
    }
    const id = this.list.add(capability.name, inputs, deps);
    this.taskIds.push(id);
    // The latest producer of a type wins: a later step uses what an earlier step made.
    for (const [field, type] of Object.entries(capability.produces)) this.available.set(type, { kind: "task", task_id: id, field });
    return id;
  }

  private build(type: ArtifactType, producers: ReadonlyMap<ArtifactType, Producer | null>): Source | null {
    const existing = this.available.get(type);
    if (existing) return existing;
    const producer = producers.get(type);
    if (!producer) return null;
    for (const t of requiredTypes(producer.capability)) if (!this.build(t, producers)) return null;
    this.run(producer.capability);
    return this.available.get(type) ?? null;
  }

  private wire(capability: Capability, field: string, source: Source): JsonValue {
    if (source.kind === "task") return reference(source.task_id, source.field);
    return fitLiteral(capability, field, source.value);
  }
}

function literalOnly(source: Source | undefined): Source | null {
  return source?.kind === "literal" ? source : null;
}

/** A list of terms goes in as an array, or joined when the capability's schema wants one string. */
function fitLiteral(capability: Capability, field: string, value: JsonValue): JsonValue {
  const props = capability.inputSchema.properties as Record<string, { type?: unknown }> | undefined;
  const wanted = props?.[field]?.type;
  if (Array.isArray(value) && wanted === "string") return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (typeof value === "string" && wanted === "array") return [value];
  return value;
}
