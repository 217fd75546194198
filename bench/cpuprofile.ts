/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by package/area and the hottest
 * functions. Usage: tsx bench/cpuprofile.ts <file.cpuprofile> [top=25] [function]
 * With a function name, also shows which of our own frames (runtime/, bench/) the time spent in
 * that function (self time of it and everything it calls) comes from.
 * `tsx bench/cpuprofile.ts --diff <base.cpuprofile> <other.cpuprofile> [top]`: where `other` spends
 * more self time than `base` (e.g. raw BullMQ vs agentbus running the same scenario), by area
 * and by function.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which part of the stack a script belongs to. */
export function area(url: string, fn: string): string {
  if (url === "") return fn === "(garbage collector)" ? "gc" : fn === "(idle)" ? "idle" : fn === "(program)" ? "program" : `native ${fn}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  const own = /\/(runtime\/[^/]+|bench|agents|test)\//.exec(url);
  if (own?.[1]) return own[1];
  if (url.startsWith("node:")) return "node core";
  return url;
}

function selfTimes(profile: CpuProfile): { byArea: Map<string, number>; byFn: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i] as number);
    if (!n) continue;
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|main)\//, "")}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return { byArea, byFn };
}

export function diff(base: CpuProfile, other: CpuProfile, top = 25): string {
  const a = selfTimes(base);
  const b = selfTimes(other);
  const delta = (x: Map<string, number>, y: Map<string, number>): Array<[string, number]> =>
    [...new Set([...x.keys(), ...y.keys()])].filter((k) => !k.startsWith("(idle)") && k !== "idle").map((k): [string, number] => [k, (y.get(k) ?? 0) - (x.get(k) ?? 0)]);
  const busy = (m: Map<string, number>): number => [...m].filter(([k]) => k !== "idle").reduce((t, [, v]) => t + v, 0);
  const lines = [`busy: base ${(busy(a.byArea) / 1000).toFixed(0)} ms, other ${(busy(b.byArea) / 1000).toFixed(0)} ms, difference ${((busy(b.byArea) - busy(a.byArea)) / 1000).toFixed(0)} ms`, "", "difference in self time by area (other − base):"];
  for (const [k, us] of delta(a.byArea, b.byArea).sort((x, y) => y[1] - x[1]).slice(0, 20)) lines.push(`  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  lines.push("", "by function:");
  for (const [k, us] of delta(a.byFn, b.byFn).sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return lines.join("\n");
}

export function summarise(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = profile.endTime - profile.startTime;
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|main)\//, "")}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const busy = total - (byArea.get("idle") ?? 0);
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`wall ${(total / 1000).toFixed(0)} ms, busy (not idle) ${(busy / 1000).toFixed(0)} ms; shares below are of busy time`, "", "self time by area:"];
  for (const [a, us] of [...byArea].filter(([a]) => a !== "idle").sort((x, y) => y[1] - x[1]).slice(0, 20)) lines.push(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${a}`);
  lines.push("", `hottest functions (self time):`);
  for (const [f, us] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${f}`);
  return lines.join("\n");
}

/** Inclusive time of every frame named `fn`, grouped by the nearest caller outside its own package. */
export function callers(profile: CpuProfile, fn: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const out = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    // Walk up: is `fn` on this sample's stack? Then charge the sample to the first own frame above it.
    let cur: number | undefined = id;
    let hit = false;
    let owner = "";
    while (cur !== undefined) {
      const n = byId.get(cur);
      if (!n) break;
      if (!hit && n.callFrame.functionName === fn) hit = true;
      else if (hit && /\/(runtime|bench)\//.test(n.callFrame.url) && !n.callFrame.url.includes("node_modules")) {
        owner = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/main\//, "")}:${n.callFrame.lineNumber + 1}`;
        break;
      }
      cur = parent.get(cur);
    }
    if (!hit) continue;
    total += us;
    out.set(owner || "(no own caller)", (out.get(owner || "(no own caller)") ?? 0) + us);
  }
  const lines = [`${fn}: ${(total / 1000).toFixed(0)} ms inclusive, by nearest own caller:`];
  for (const [o, us] of [...out].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${o}`);
  return lines.join("\n");
}

const read = (file: string): CpuProfile => JSON.parse(readFileSync(file, "utf8")) as CpuProfile;

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === "--diff") {
  const [base, other, top] = process.argv.slice(3);
  if (!base || !other) throw new Error("usage: tsx bench/cpuprofile.ts --diff <base.cpuprofile> <other.cpuprofile> [top]");
  process.stdout.write(`${diff(read(base), read(other), Number(top ?? 25))}\n`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: tsx bench/cpuprofile.ts <file.cpuprofile> [top]");
  const profile = read(file);
  process.stdout.write(`${summarise(profile, Number(process.argv[3] ?? 25))}\n`);
  const fn = process.argv[4];
  if (fn) process.stdout.write(`\n${callers(profile, fn)}\n`);
}
