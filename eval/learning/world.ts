/**
 * The synthetic deployment a seed describes: its categories (chains of capabilities), what each
 * capability costs, and how to turn a chain into a workflow record with noise.
 */
import type { Rng } from "./prng.ts";
import { workflow, type StepSpec, type WorkflowRecord } from "./records.ts";
import type { Deployment } from "./vocab.ts";

export interface Category {
  name: string;
  chain: string[];
}

export interface Planted {
  key: string;
  kind: string;
  occurrences: number;
  effect: Record<string, unknown>;
}

export interface Decoy {
  key: string;
  kind: string;
  why: string;
}

export interface GroundTruth {
  seed: number;
  deployment: string;
  records: number;
  planted: Planted[];
  decoys: Decoy[];
}

/** Failure rates of the noise: one-off errors anywhere, and a source that times out now and then everywhere. */
export const NOISE = { error: 0.01, recovered: 0.01, flakySource: 0.08 };

export class World {
  readonly records: WorkflowRecord[] = [];
  readonly planted: Planted[] = [];
  readonly decoys: Decoy[] = [];
  private readonly cost = new Map<string, number>();
  private readonly size = new Map<string, number>();
  private counter = 0;
  private readonly start = Date.parse("2026-02-24T00:00:00.000Z");

  constructor(
    readonly rng: Rng,
    readonly seed: number,
    readonly deployment: Deployment,
  ) {
    for (const c of [...deployment.sources, ...deployment.steps]) {
      this.cost.set(c, rng.int(50, 4000));
      this.size.set(c, rng.int(500, 200_000));
    }
  }

  source(): string {
    return this.deployment.sources[0] ?? "fetch";
  }

  costOf(capability: string): number {
    return this.cost.get(capability) ?? 100;
  }

  sizeOf(capability: string): number {
    return this.size.get(capability) ?? 1000;
  }

  nextSession(): string {
    this.counter += 1;
    return `s-${this.seed}-${String(this.counter).padStart(6, "0")}`;
  }

  /** A category: the source, then 2–4 steps in vocabulary order. */
  category(name: string, minSteps = 2): Category {
    const steps = this.deployment.steps;
    const k = this.rng.int(minSteps, Math.min(4, steps.length));
    const chosen = this.rng.shuffle(steps.map((_, i) => i)).slice(0, k).sort((a, b) => a - b);
    return { name, chain: [this.source(), ...chosen.map((i) => steps[i] ?? "")] };
  }

  /** A step as it normally runs: cost and input size near the capability's own. */
  step(capability: string, extra: Partial<StepSpec> = {}): StepSpec {
    return {
      capability,
      duration_ms: this.rng.jitter(this.costOf(capability), 0.3),
      input_chars: this.rng.jitter(this.sizeOf(capability), 0.3),
      fingerprint: this.rng.hex(16),
      ...extra,
    };
  }

  /**
   * A chain run with noise: the source on `domain`, each task now and then failing with a random
   * code (its dependants skipped) or recovering from one on a retry.
   */
  run(category: string, chain: readonly string[], domain: string, overrides: Record<number, Partial<StepSpec>> = {}, noise = true): StepSpec[] {
    const out: StepSpec[] = [];
    let broken = false;
    for (const [i, capability] of chain.entries()) {
      if (broken) {
        out.push({ capability, status: "skipped" });
        continue;
      }
      let s = this.step(capability, i === 0 ? { domain, input_chars: undefined } : {});
      if (noise) s = this.noisy(s, i === 0);
      s = { ...s, ...(overrides[i] ?? {}) };
      if (s.status === "failed") {
        delete s.fingerprint;
        broken = true;
      }
      out.push(s);
    }
    void category;
    return out;
  }

  private noisy(s: StepSpec, isSource: boolean): StepSpec {
    const r = this.rng.next();
    if (isSource && r < NOISE.flakySource) {
      return { ...s, status: "failed", attempts: 3, error_code: "TIMEOUT", recoverable: true, duration_ms: (s.duration_ms ?? 100) * 3 };
    }
    const q = this.rng.next();
    if (q < NOISE.error) {
      const attempts = this.rng.int(1, 3);
      return { ...s, status: "failed", attempts, error_code: this.rng.pick(this.deployment.codes), recoverable: attempts > 1 };
    }
    if (q < NOISE.error + NOISE.recovered) return { ...s, attempts: 2, error_code: this.rng.pick(this.deployment.codes), recoverable: true };
    return s;
  }

  add(category: string, steps: StepSpec[], contradictions?: WorkflowRecord["contradictions"]): WorkflowRecord {
    const at = this.start + this.rng.int(0, 86_000_000);
    const record = workflow({ session_id: this.nextSession(), category, steps, at, ...(contradictions ? { contradictions } : {}) });
    this.records.push(record);
    return record;
  }

  plant(p: Planted): void {
    this.planted.push(p);
  }

  decoy(d: Decoy): void {
    this.decoys.push(d);
  }

  truth(): GroundTruth {
    return { seed: this.seed, deployment: this.deployment.name, records: this.records.length, planted: this.planted, decoys: this.decoys };
  }
}
