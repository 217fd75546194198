/**
 * Postgres helpers for the benchmark: the run's schemas (unique per run, dropped at the end) and a
 * CPU reader for the local Postgres server's processes.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** `abbench_<hex>`: every schema the run creates starts with it. */
export function runSchema(): string {
  return `abbench_${randomBytes(4).toString("hex")}`;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: "agentbus-bench" });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The server's version, or a reason it cannot be reached. */
export async function postgresVersion(url: string): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  try {
    const version = await withClient(url, async (c) => (await c.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "unknown");
    return { ok: true, version };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  await withClient(url, async (c) => {
    for (const s of schemas) {
      if (!/^abbench_[a-z0-9_]+$/.test(s)) throw new Error(`refusing to drop ${s}: not a bench schema`);
      await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    }
  });
}

/** CPU time (user + sys, ms) so far of each local `postgres` process, by pid. */
export type CpuSnapshot = Map<number, number>;

/**
 * CPU of every process named `postgres` on this machine, from /proc: the server and all its
 * backends, ours and anybody else's (the machine is shared; raw BullMQ and agentbus without audit
 * show the background level). Null when /proc is not readable or the server is not local.
 */
export function postgresCpuReader(url: string): () => CpuSnapshot | null {
  const host = (() => {
    try {
      return new URL(url).hostname;
    } catch {
      return "";
    }
  })();
  const local = ["127.0.0.1", "localhost", "::1", "[::1]", ""].includes(host);
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return () => {
    if (!local || process.platform !== "linux") return null;
    const out: CpuSnapshot = new Map();
    try {
      for (const pid of readdirSync("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        let stat: string;
        try {
          stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        } catch {
          continue; // exited meanwhile
        }
        const close = stat.lastIndexOf(")");
        if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
        const fields = stat.slice(close + 2).split(" "); // fields[0] is field 3 (state)
        out.set(Number(pid), (Number(fields[11]) + Number(fields[12])) * tick); // utime, stime: fields 14, 15
      }
    } catch {
      return null;
    }
    return out.size > 0 ? out : null;
  };
}

/**
 * CPU ms between two snapshots: per process still there at the end (a new one counts from zero).
 * A backend that exited in between takes its CPU with it, so this can under-count, never go negative.
 */
export function cpuDelta(a: CpuSnapshot | null, b: CpuSnapshot | null): number {
  if (a === null || b === null) return Number.NaN;
  let total = 0;
  for (const [pid, ms] of b) total += Math.max(0, ms - (a.get(pid) ?? 0));
  return total;
}
