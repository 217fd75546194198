/**
 * Reads a JSON file for the CLI, telling a path that is not a file (usage error) from bad JSON (bad
 * input). It never reads more than the byte limit: stat first, then read with a cap, so a device
 * (/dev/zero), a pipe or a file that grows cannot make a command hang or exhaust memory.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { depthIssue } from "../envelope/guards.ts";
import { AgentbusError, summarize, type Issue } from "../errors/index.ts";
import { fileKind } from "../infra/files.ts";

export type ReadJsonResult =
  | { ok: true; value: unknown; bytes: number }
  | {
      ok: false;
      /** One line for people: what is wrong with the file. */
      message: string;
      /** The same as issues with pointers (a guard issue when the content was refused). */
      issues: Issue[];
      bytes: number;
    };

const refused = (message: string, bytes: number, issues: Issue[] = [{ pointer: "", message, rule: "guard" }]): ReadJsonResult => ({ ok: false, message, issues, bytes });

export function readJsonFile(file: string, maxBytes: number): ReadJsonResult {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentbusError("USAGE", code === "ENOENT" || code === "ENOTDIR" ? `cannot read ${file}: no such file` : `cannot read ${file}: ${(err as Error).message}`);
  }
  // Opening a pipe or a terminal can block for ever, and a device has no end: refuse them unopened.
  if (!stats.isFile()) {
    throw new AgentbusError("USAGE", `cannot read ${file}: it is ${fileKind(stats)}; give a JSON file${stats.isDirectory() ? ` (e.g. ${file.replace(/\/+$/, "")}/*.json)` : ""}`);
  }
  if (stats.size > maxBytes) return refused(`file is ${stats.size} bytes; an envelope may be at most ${maxBytes} bytes`, stats.size);
  const read = readCapped(file, maxBytes);
  if (read.bytes > maxBytes) return refused(`file is over ${maxBytes} bytes; an envelope may be at most ${maxBytes} bytes`, read.bytes);
  let value: unknown;
  try {
    value = JSON.parse(read.text) as unknown;
  } catch (err) {
    return refused(`not valid JSON: ${(err as Error).message}`, read.bytes);
  }
  // JSON.parse copes with any depth; the audit log and the dead-letter queue serialise recursively
  // and would overflow on a deep value, so the depth guard runs here, before anything else sees it.
  const deep = depthIssue(value);
  if (deep) return refused(summarize([deep]), read.bytes, [deep]);
  return { ok: true, value, bytes: read.bytes };
}

/** Up to maxBytes + 1 bytes (one more tells "over the limit"), whatever stat said the size was. */
function readCapped(file: string, maxBytes: number): { text: string; bytes: number } {
  const fd = openSync(file, "r");
  try {
    // Checked again on the open file: the path may have been swapped since the stat.
    if (!fstatSync(fd).isFile()) throw new AgentbusError("USAGE", `cannot read ${file}: it is not a regular file`);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(256 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return { text: Buffer.concat(chunks, total).toString("utf8"), bytes: total };
  } finally {
    closeSync(fd);
  }
}
