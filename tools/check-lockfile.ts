// Refuses a package-lock.json that a fresh `npm ci` would choke on, and dependencies whose install
// scripts nobody has decided about. Run by `npm run check` (and so by CI) before anything installs
// the lock file on a new machine.
//
//   tsx tools/check-lockfile.ts [path/to/package-lock.json]
//
// Exit 0 when the lock file is sound, 1 with one line per problem otherwise.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface LockProblem {
  entry: string;
  problem: string;
}

interface LockEntry {
  version?: unknown;
  link?: unknown;
  hasInstallScript?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The package name an entry key like `node_modules/a/node_modules/@s/b` installs. */
function packageName(key: string): string {
  const at = key.lastIndexOf("node_modules/");
  return at === -1 ? key : key.slice(at + "node_modules/".length);
}

/**
 * Problems in a parsed lock file:
 * - a package entry without a version (npm 11.19's `npm ci` fails with "Invalid Version:");
 * - a package with an install script that `allowScripts` in package.json neither approves nor denies
 *   (npm 11.19 skips unapproved scripts, so the result would differ between npm versions).
 */
export function lockProblems(lock: unknown, allowScripts: Record<string, unknown> = {}): LockProblem[] {
  if (!isRecord(lock)) return [{ entry: "(root)", problem: "the lock file is not a JSON object" }];
  if (lock.lockfileVersion !== 3 && lock.lockfileVersion !== 2) {
    return [{ entry: "lockfileVersion", problem: `expected 2 or 3, found ${JSON.stringify(lock.lockfileVersion)}` }];
  }
  const packages = lock.packages;
  if (!isRecord(packages)) return [{ entry: "packages", problem: "missing or not an object" }];
  const problems: LockProblem[] = [];
  for (const [key, raw] of Object.entries(packages)) {
    if (key === "") continue; // the project itself
    if (!isRecord(raw)) {
      problems.push({ entry: key, problem: "entry is not an object" });
      continue;
    }
    const entry = raw as LockEntry;
    if (entry.link === true) continue;
    if (typeof entry.version !== "string" || entry.version === "") {
      problems.push({
        entry: key,
        problem: "package entry has no version (npm ci fails with 'Invalid Version'); regenerate with `npm run lock`",
      });
      continue;
    }
    if (entry.hasInstallScript === true && !(packageName(key) in allowScripts)) {
      problems.push({
        entry: key,
        problem:
          "has an install script that package.json's allowScripts neither approves nor denies; " +
          `decide with \`npm install-scripts approve|deny ${packageName(key)}\``,
      });
    }
  }
  return problems;
}

export function checkLockFile(lockPath: string): LockProblem[] {
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(lockPath, "utf8"));
  } catch (err) {
    return [{ entry: lockPath, problem: `cannot be read as JSON: ${(err as Error).message}` }];
  }
  let allowScripts: Record<string, unknown> = {};
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(dirname(lockPath), "package.json"), "utf8"));
    if (isRecord(pkg) && isRecord(pkg.allowScripts)) allowScripts = pkg.allowScripts;
  } catch {
    // No package.json beside it: only the version rule applies.
  }
  return lockProblems(lock, allowScripts);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const lockPath = resolve(process.argv[2] ?? "package-lock.json");
  const problems = checkLockFile(lockPath);
  for (const p of problems) process.stderr.write(`${lockPath}: ${p.entry}: ${p.problem}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`lock file ok: ${lockPath}\n`);
}
