import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { checkLockFile, lockProblems } from "../../tools/check-lockfile.ts";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const realLock: unknown = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const realPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { allowScripts?: Record<string, unknown> };

function withStub(lock: unknown, key: string, entry: object): unknown {
  const copy = structuredClone(lock) as { packages: Record<string, unknown> };
  copy.packages[key] = entry;
  return copy;
}

describe("the lock file check", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("passes the project's own lock file", () => {
    expect(checkLockFile(join(root, "package-lock.json"))).toEqual([]);
  });

  it("names a package entry that has no version", () => {
    const stub = "node_modules/msgpackr-extract/node_modules/@msgpackr-extract/msgpackr-extract-darwin-arm64";
    const problems = lockProblems(withStub(realLock, stub, { optional: true }), realPkg.allowScripts);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.entry).toBe(stub);
    expect(problems[0]!.problem).toMatch(/no version/);
  });

  it("lets links through without a version", () => {
    expect(lockProblems(withStub(realLock, "node_modules/local-pkg", { resolved: "packages/x", link: true }), realPkg.allowScripts)).toEqual([]);
  });

  it("names a dependency whose install script nobody approved or denied", () => {
    const problems = lockProblems(
      withStub(realLock, "node_modules/some-native", { version: "1.0.0", hasInstallScript: true }),
      realPkg.allowScripts,
    );
    expect(problems.map((p) => p.entry)).toEqual(["node_modules/some-native"]);
  });

  it("makes `npm run check` fail, naming the entry, on a lock file with a version-less entry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentbus-lock-"));
    dirs.push(dir);
    cpSync(join(root, "package.json"), join(dir, "package.json"));
    cpSync(join(root, "tools"), join(dir, "tools"), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    const stub = "node_modules/unrs-resolver/node_modules/@unrs/resolver-binding-win32-x64-msvc";
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify(withStub(realLock, stub, { dev: true, optional: true })));
    const result = await run("npm", ["run", "check"], { cwd: dir }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${stub}: package entry has no version`);
  });
});
