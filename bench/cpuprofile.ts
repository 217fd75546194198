/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by package/area and the hottest
 * functions. Usage: tsx bench/cpuprofile.ts <file.cpuprofile> [top=25]
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: tsx bench/cpuprofile.ts <file.cpuprofile> [top]");
  process.stdout.write(`${summarise(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(process.argv[3] ?? 25))}\n`);
}
