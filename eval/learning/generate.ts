/**
 * Seeded synthetic workflow records for the learning evaluation: a deployment's everyday traffic
 * with noise, planted patterns of every kind (each seen from once to hundreds of times) and
 * decoys, with the ground truth beside them.
 */
import { mulberry32 } from "./prng.ts";
import * as p from "./plant.ts";
import type { WorkflowRecord } from "./records.ts";
import { DEPLOYMENTS, OCCURRENCES, PLANTED_CODES } from "./vocab.ts";
import { World, type Category, type GroundTruth } from "./world.ts";

export interface Generated {
  records: WorkflowRecord[];
  truth: GroundTruth;
}

const PER_KIND = 3;

export function generate(seed: number): Generated {
  const rng = mulberry32(seed);
  const deployment = DEPLOYMENTS[seed % DEPLOYMENTS.length] ?? DEPLOYMENTS[0];
  if (!deployment) throw new Error("no deployments");
  const w = new World(rng, seed, deployment);
  const counts = () => rng.pick(OCCURRENCES);

  // Categories: some only carry traffic and action failures, the others one planted pattern each.
  const plain = Array.from({ length: 4 }, (_, i) => w.category(`c${i}_plain`));
  const missing = Array.from({ length: PER_KIND }, (_, i) => w.category(`c${i}_missing`, 2));
  const ordered = Array.from({ length: PER_KIND }, (_, i) => w.category(`c${i}_ordered`, 2));
  const decoyOrder = w.category("c_equal_orders", 2);
  const decoySkip = w.category("c_harmless_skip", 2);
  const all = [...plain, ...missing, ...ordered, decoyOrder, decoySkip];

  // Everyday traffic: every category runs its usual chain on the usual domains, with noise.
  for (const c of all) {
    const n = rng.int(40, 150);
    for (let i = 0; i < n; i += 1) w.add(c.name, w.run(c.name, c.chain, rng.pick(deployment.domains)));
  }
  const merge = deployment.steps[0] ?? "merge";
  for (let i = 0; i < 60; i += 1) {
    const [a, b] = rng.shuffle(deployment.domains);
    w.add("compare", p.compareSteps(w, merge, a ?? "a.example", b ?? "b.example"));
  }

  // Planted patterns.
  const codes = rng.shuffle(PLANTED_CODES);
  for (let i = 0; i < PER_KIND; i += 1) p.plantActionFailure(w, rng.pick(plain), `host${i}-${rng.hex(4)}.example.com`, codes[i] ?? "HTTP_429", counts());
  for (const c of missing) p.plantMissingStep(w, c, lastIndex(c), counts());
  for (const c of ordered) p.plantCostlyOrder(w, c, lastIndex(c), counts());
  const redundantIn = plain.filter((c) => c.chain.length >= 2);
  const usedCaps = new Set<string>();
  for (let i = 0; i < PER_KIND; i += 1) {
    const c = rng.pick(redundantIn);
    const at = rng.int(1, c.chain.length - 1);
    const cap = c.chain[at] ?? "";
    if (usedCaps.has(cap)) continue;
    usedCaps.add(cap);
    p.plantRedundant(w, c, at, counts());
  }
  for (let i = 0; i < PER_KIND; i += 1) p.plantSourceConflict(w, merge, `src${i}a-${rng.hex(4)}.example.org`, `src${i}b-${rng.hex(4)}.example.org`, counts());

  // Decoys.
  p.decoySingleTimeout(w, rng.pick(plain), `once-${rng.hex(4)}.example.net`);
  p.decoyRecovered(w, rng.pick(plain), `flaky-${rng.hex(4)}.example.net`, rng.int(10, 60));
  p.decoyTravelling(w);
  p.decoyEqualOrders(w, decoyOrder, lastIndex(decoyOrder), rng.int(20, 60));
  p.decoyHarmlessSkip(w, decoySkip, lastIndex(decoySkip), rng.int(10, 40));
  p.decoyRareConflict(w, merge, `meet-a-${rng.hex(4)}.example.org`, `meet-b-${rng.hex(4)}.example.org`, rng.int(30, 60), 3);
  const spare = all.flatMap((c) => c.chain.slice(1).map((cap, i) => ({ c, at: i + 1, cap }))).find((x) => !usedCaps.has(x.cap));
  if (spare) p.decoyOneDuplicate(w, spare.c, spare.at);

  // Streamed in no particular order, as a store would page them.
  const records = rng.shuffle(w.records);
  return { records, truth: { ...w.truth(), records: records.length } };
}

function lastIndex(c: Category): number {
  return c.chain.length - 1;
}
