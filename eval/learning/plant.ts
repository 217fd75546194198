/**
 * Planted patterns (one of each kind the miner must find) and decoys (what must not become a
 * confident rule). Each writes its records into the world and its expected pattern key (the key
 * grammar of agents/learning_agent/miner/keys.ts, written out here independently) into the truth.
 */
import type { Category, World } from "./world.ts";

/** A host that answers every request with the same failure; retries never help. */
export function plantActionFailure(w: World, c: Category, domain: string, code: string, n: number): void {
  const src = w.source();
  // From 10 occurrences on, a few retries get through at the second attempt: dispatch should stop there.
  const recovered = n >= 10 && w.rng.chance(0.3) ? Math.max(1, Math.floor(n * 0.08)) : 0;
  for (let i = 0; i < n; i += 1) {
    w.add(c.name, w.run(c.name, c.chain, domain, { 0: { status: "failed", attempts: 3, error_code: code, recoverable: true, duration_ms: w.rng.jitter(900, 0.3) } }));
  }
  for (let i = 0; i < recovered; i += 1) w.add(c.name, w.run(c.name, c.chain, domain, { 0: { attempts: 2, error_code: code, recoverable: true } }, false));
  const match = { capability: src, error_code: code, domain };
  w.plant({
    key: `action_failure:${src}:${code}:${domain}`,
    kind: "action_failure",
    occurrences: n,
    effect: recovered > 0 ? { op: "max_attempts", match, attempts: 2 } : { op: "no_retry", match },
  });
}

/**
 * Workflows of a category that skip step `at - 1`: the capability at `at` fails, or costs far
 * more (more than the skipped step would have cost: the step pays for itself).
 */
export function plantMissingStep(w: World, c: Category, at: number, n: number): void {
  const x = c.chain[at] ?? "";
  const y = c.chain[at - 1] ?? "";
  const chain = c.chain.filter((_, i) => i !== at - 1);
  const fails = w.rng.chance(0.5);
  const overrides = fails
    ? { [at - 1]: { status: "failed" as const, attempts: 1, error_code: "UNSUPPORTED_INPUT", recoverable: false } }
    : { [at - 1]: { duration_ms: w.rng.jitter(w.costOf(x) * 8 + w.costOf(y) * 2, 0.2), input_chars: w.sizeOf(x) * 40 } };
  for (let i = 0; i < n; i += 1) w.add(c.name, w.run(c.name, chain, w.rng.pick(w.deployment.domains), overrides));
  w.plant({ key: `missing_step:${c.name}:${x}:${y}`, kind: "missing_step", occurrences: n, effect: { op: "insert_before", capability: x, insert: y, category: c.name } });
}

/** Workflows of a category with two adjacent steps swapped, costing about three times as much. */
export function plantCostlyOrder(w: World, c: Category, at: number, n: number): void {
  const swapped = [...c.chain];
  [swapped[at - 1], swapped[at]] = [swapped[at] ?? "", swapped[at - 1] ?? ""];
  const slow = (cap: string) => ({ duration_ms: w.rng.jitter(w.costOf(cap) * 4 + 2000, 0.2) });
  for (let i = 0; i < n; i += 1) {
    w.add(c.name, w.run(c.name, swapped, w.rng.pick(w.deployment.domains), { [at - 1]: slow(swapped[at - 1] ?? ""), [at]: slow(swapped[at] ?? "") }));
  }
  w.plant({ key: `task_order:${c.name}:${[...c.chain].sort().join("+")}`, kind: "task_order", occurrences: n, effect: { op: "prefer_order", order: c.chain, category: c.name } });
}

/** Plans that run `c.chain[at]` twice on the same input (equal fingerprints). */
export function plantRedundant(w: World, c: Category, at: number, n: number): void {
  const z = c.chain[at] ?? "";
  for (let i = 0; i < n; i += 1) {
    const steps = w.run(c.name, c.chain, w.rng.pick(w.deployment.domains), {}, false);
    const original = steps[at];
    if (!original) continue;
    steps.push({ ...original, after: [at - 1], duration_ms: w.rng.jitter(w.costOf(z), 0.3) });
    w.add(c.name, steps);
  }
  w.plant({ key: `redundant_task:${z}`, kind: "redundant_task", occurrences: n, effect: { op: "dedupe", capability: z } });
}

/** Two sources compared side by side that disagree on the same subject nearly every time they meet. */
export function plantSourceConflict(w: World, merge: string, a: string, b: string, n: number): void {
  const subject = w.rng.hex(16);
  const src = w.source();
  const [first, second] = a <= b ? [a, b] : [b, a];
  const agreeing = Math.floor(n * 0.2);
  for (let i = 0; i < n + agreeing; i += 1) {
    const contradictions = i < n ? [{ kind: "fact" as const, subject_key: subject, sources: [{ capability: src, domain: a }, { capability: src, domain: b }] as [{ capability: string; domain: string }, { capability: string; domain: string }] }] : undefined;
    w.add("compare", compareSteps(w, merge, a, b), contradictions);
  }
  w.plant({ key: `source_conflict:fact:${subject}:${first}+${second}`, kind: "source_conflict", occurrences: n, effect: { op: "flag_source_conflict", sources: [first, second], kind: "fact", subject_key: subject } });
}

export function compareSteps(w: World, merge: string, a: string, b: string) {
  const src = w.source();
  return [w.step(src, { domain: a, after: [], input_chars: undefined }), w.step(src, { domain: b, after: [], input_chars: undefined }), w.step(merge, { after: [0, 1] })];
}

// --- decoys -----------------------------------------------------------------------------------

/** One timeout, exhausting its retries, once. */
export function decoySingleTimeout(w: World, c: Category, domain: string): void {
  w.add(c.name, w.run(c.name, c.chain, domain, { 0: { status: "failed", attempts: 3, error_code: "TIMEOUT", recoverable: true } }, false));
  w.decoy({ key: `action_failure:${w.source()}:TIMEOUT:${domain}`, kind: "action_failure", why: "a single timeout" });
}

/** A host whose errors retries always get past. */
export function decoyRecovered(w: World, c: Category, domain: string, n: number): void {
  for (let i = 0; i < n; i += 1) w.add(c.name, w.run(c.name, c.chain, domain, { 0: { attempts: 2, error_code: "HTTP_503", recoverable: true } }, false));
  // Twice it failed even so: not enough to outweigh the retries that worked.
  for (let i = 0; i < 2; i += 1) w.add(c.name, w.run(c.name, c.chain, domain, { 0: { status: "failed", attempts: 3, error_code: "HTTP_503", recoverable: true } }, false));
  w.decoy({ key: `action_failure:${w.source()}:HTTP_503:${domain}`, kind: "action_failure", why: "retried and then succeeded" });
}

/** The flaky source's timeouts: every domain fails this way as often as any other, the domain merely travels with them. */
export function decoyTravelling(w: World): void {
  for (const d of w.deployment.domains) w.decoy({ key: `action_failure:${w.source()}:TIMEOUT:${d}`, kind: "action_failure", why: "domain travels with a capability-wide timeout rate" });
}

/** Two orders of one category that cost the same. */
export function decoyEqualOrders(w: World, c: Category, at: number, n: number): void {
  const swapped = [...c.chain];
  [swapped[at - 1], swapped[at]] = [swapped[at] ?? "", swapped[at - 1] ?? ""];
  for (let i = 0; i < n; i += 1) w.add(c.name, w.run(c.name, swapped, w.rng.pick(w.deployment.domains)));
  w.decoy({ key: `task_order:${c.name}:${[...c.chain].sort().join("+")}`, kind: "task_order", why: "two orders with the same cost" });
}

/** Workflows that skip a step without any harm. */
export function decoyHarmlessSkip(w: World, c: Category, at: number, n: number): void {
  const chain = c.chain.filter((_, i) => i !== at - 1);
  for (let i = 0; i < n; i += 1) w.add(c.name, w.run(c.name, chain, w.rng.pick(w.deployment.domains)));
  w.decoy({ key: `missing_step:${c.name}:${c.chain[at] ?? ""}:${c.chain[at - 1] ?? ""}`, kind: "missing_step", why: "skipping the step costs nothing" });
}

/** Two sources that meet often and disagree on one subject only now and then. */
export function decoyRareConflict(w: World, merge: string, a: string, b: string, together: number, flagged: number): void {
  const subject = w.rng.hex(16);
  const src = w.source();
  for (let i = 0; i < together; i += 1) {
    const contradictions = i < flagged ? [{ kind: "fact" as const, subject_key: subject, sources: [{ capability: src, domain: a }, { capability: src, domain: b }] as [{ capability: string; domain: string }, { capability: string; domain: string }] }] : undefined;
    w.add("compare", compareSteps(w, merge, a, b), contradictions);
  }
  const [first, second] = a <= b ? [a, b] : [b, a];
  w.decoy({ key: `source_conflict:fact:${subject}:${first}+${second}`, kind: "source_conflict", why: "a coincidence: rare among many meetings" });
}

/** One plan that did the same work twice, once. */
export function decoyOneDuplicate(w: World, c: Category, at: number): void {
  const steps = w.run(c.name, c.chain, w.rng.pick(w.deployment.domains), {}, false);
  const original = steps[at];
  if (original) steps.push({ ...original, after: [at - 1] });
  w.add(c.name, steps);
  w.decoy({ key: `redundant_task:${c.chain[at] ?? ""}`, kind: "redundant_task", why: "a duplicate once" });
}
