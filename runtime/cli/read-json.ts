/** Reads a JSON file for the CLI, telling a missing file (usage error) from bad JSON (bad input). */
import { readFileSync, statSync } from "node:fs";
import { AgentbusError } from "../errors/index.ts";

export type ReadJsonResult = { ok: true; value: unknown; bytes: number } | { ok: false; message: string; bytes: number };

export function readJsonFile(file: string, maxBytes: number): ReadJsonResult {
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch {
    throw new AgentbusError("USAGE", `cannot read ${file}: no such file`);
  }
  if (bytes > maxBytes) return { ok: false, message: `file is ${bytes} bytes; an envelope may be at most ${maxBytes} bytes`, bytes };
  const text = readFileSync(file, "utf8");
  try {
    return { ok: true, value: JSON.parse(text) as unknown, bytes };
  } catch (err) {
    return { ok: false, message: `not valid JSON: ${(err as Error).message}`, bytes };
  }
}
