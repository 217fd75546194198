/** The project's TypeScript sources, for tests that scan code (boundaries, casts). */
import { readdirSync, statSync } from "node:fs";
import { join, sep } from "node:path";

/** A path with forward slashes, as the tests report them on any system. */
export const posix = (p: string): string => p.split(sep).join("/");

/** Every .ts file under `dir`, node_modules and dot-folders left out. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tsFiles(full));
    else if (entry.endsWith(".ts")) out.push(full);
  }
  return out;
}
