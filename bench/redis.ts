/** Redis helpers for the benchmark: server version, its CPU counters, and deleting the run's keys. */
import { Redis } from "ioredis";

export async function redisVersion(url: string): Promise<string> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await r.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  } finally {
    r.disconnect();
  }
}

/** redis-server's CPU time so far (user + sys, ms), over one long-lived connection. */
export function redisCpuReader(url: string): { read: () => Promise<number | null>; close: () => void } {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    read: async () => {
      try {
        const info = await r.info("cpu");
        const user = /used_cpu_user:([0-9.]+)/.exec(info)?.[1];
        const sys = /used_cpu_sys:([0-9.]+)/.exec(info)?.[1];
        return user && sys ? (Number(user) + Number(sys)) * 1000 : null;
      } catch {
        return null;
      }
    },
    close: () => r.disconnect(),
  };
}

/** Deletes every key under each `<prefix>:`; returns how many. */
export async function dropPrefixes(url: string, prefixes: readonly string[]): Promise<number> {
  const r = new Redis(url);
  let deleted = 0;
  try {
    for (const prefix of prefixes) {
      let cursor = "0";
      do {
        const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) deleted += await r.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    r.disconnect();
  }
  return deleted;
}
