/** Every `as unknown as` cast in runtime/ and agents/ says why (a comment on its line or just above). */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { posix, tsFiles } from "../helpers/source-files.ts";



/** A cast is explained by a comment on its own line or on the line just above it. */
function uncommentedCasts(dirs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const dir of dirs) {
    for (const file of tsFiles(dir)) {
      if (file.includes(`${sep}generated${sep}`)) continue;
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        if (!line.includes("as unknown as")) return;
        const above = lines[i - 1]?.trim() ?? "";
        const commented = /\/\/|\/\*/.test(line) || above.startsWith("//") || above.startsWith("*") || above.endsWith("*/");
        if (commented) return;
        const key = posix(relative(PROJECT_ROOT, file));
        counts.set(key, (counts.get(key) ?? 0) + 1);
      });
    }
  }
  return counts;
}

describe("as unknown as", () => {
  it("every cast in runtime/ and agents/ has a comment saying why", () => {
    const counts = uncommentedCasts([join(PROJECT_ROOT, "runtime"), join(PROJECT_ROOT, "agents")]);
    const unexplained = [...counts].map(([file, n]) => `${file}: ${n}`);
    expect(unexplained).toEqual([]);
  });

  it("the check flags a cast without a comment and accepts one with a comment above or on its line (fixture)", () => {
    const counts = uncommentedCasts([join(PROJECT_ROOT, "test", "fixtures", "boundaries")]);
    expect([...counts]).toEqual([["test/fixtures/boundaries/runtime/casts.ts", 1]]);
  });
});
