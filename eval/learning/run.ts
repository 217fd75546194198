/**
 * The learning evaluation: generate seeded records with planted patterns, summarise them as the
 * memory agent does (streamed), mine them as the learning agent does, and score the rules.
 *
 *   npx tsx eval/learning/run.ts [--seed N[,M…]] [--json] [--out dir]
 *
 * Default seeds 1–5. With --out, each seed's records (JSON lines), ground truth, summary and report
 * are written to <dir>/seed-<N>/, so anyone can re-run one case.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mine } from "../../agents/learning_agent/miner/index.ts";
import { SummaryBuilder } from "../../agents/memory_agent/summary/index.ts";
import { generate } from "./generate.ts";
import { combine, KINDS, score, type Score, type Scored } from "./score.ts";

interface Args {
  seeds: number[];
  json: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: [1, 2, 3, 4, 5], json: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--seed") args.seeds = (argv[++i] ?? "").split(",").map((s) => Number.parseInt(s, 10));
    else if (a === "--out") args.out = argv[++i];
    else throw new Error(`unknown argument ${a ?? ""}; usage: run.ts [--seed N[,M…]] [--json] [--out dir]`);
  }
  if (args.seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error("--seed takes non-negative integers, e.g. --seed 7 or --seed 1,2,3");
  return args;
}

export function evaluate(seed: number, out?: string): Scored & { seed: number; records: number } {
  const { records, truth } = generate(seed);
  const builder = new SummaryBuilder();
  for (const r of records) builder.add(r);
  const summary = builder.finish({ batch_id: `batch_eval_${seed}`, period: { from: "2026-02-24T00:00:00.000Z", to: "2026-02-24T23:59:59.999Z" } });
  const report = mine(summary, { date: "2026-02-24" });
  if (out) {
    const dir = join(out, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "records.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "truth.json"), JSON.stringify(truth, null, 2) + "\n");
    writeFileSync(join(dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  }
  return { seed, records: records.length, ...score(report, truth) };
}

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);

function line(name: string, s: Score): string {
  return [
    name.padEnd(16),
    String(s.rules).padStart(5),
    f2(s.precision).padStart(9),
    f2(s.recall).padStart(7),
    `${f2(s.recall_3plus)} (${s.found_3plus}/${s.planted_3plus})`.padStart(14),
    f2(s.duplicate_rate).padStart(6),
    f3(s.brier).padStart(7),
    String(s.confident_decoy_rules).padStart(7),
  ].join(" ");
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const results = args.seeds.map((seed) => evaluate(seed, args.out));
  const overall = combine(results.map((r) => r.overall));
  const byKind = Object.fromEntries(KINDS.map((k) => [k, combine(results.map((r) => r.by_kind[k]).filter((s): s is Score => s !== undefined))]));
  const targets = { precision: overall.precision >= 0.95, recall_3plus: overall.recall_3plus >= 0.9, duplicates: overall.duplicates === 0, brier: overall.brier <= 0.1 };
  if (args.json) {
    process.stdout.write(JSON.stringify({ seeds: results, overall, by_kind: byKind, targets }, null, 2) + "\n");
  } else {
    const head = `${"".padEnd(16)} rules precision recall  recall(≥3)     dup   brier decoys≥.7`;
    for (const r of results) {
      process.stdout.write(`seed ${r.seed}: ${r.records} records\n${head}\n`);
      for (const k of KINDS) if (r.by_kind[k]) process.stdout.write(line(k, r.by_kind[k]) + "\n");
      process.stdout.write(line("overall", r.overall) + "\n");
      for (const m of r.misses) process.stdout.write(`  missed ${m.key} (planted ${m.occurrences}×)\n`);
      for (const x of r.wrong) process.stdout.write(`  wrong  ${x.key} at ${x.confidence} (${x.why})\n`);
      process.stdout.write("\n");
    }
    process.stdout.write(`all seeds (${args.seeds.join(", ")})\n${head}\n`);
    for (const k of KINDS) process.stdout.write(line(k, byKind[k] ?? overall) + "\n");
    process.stdout.write(line("overall", overall) + "\n");
    process.stdout.write(`targets: precision ≥ 0.95 ${ok(targets.precision)}, recall(≥3) ≥ 0.9 ${ok(targets.recall_3plus)}, 0 duplicates ${ok(targets.duplicates)}, Brier ≤ 0.1 ${ok(targets.brier)}\n`);
  }
  process.exitCode = Object.values(targets).every(Boolean) ? 0 : 1;
}

function ok(b: boolean): string {
  return b ? "met" : "NOT met";
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) main();
