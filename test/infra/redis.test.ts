import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { embeddedUrlFile, parseRedisUrl, ping, resolveRedis } from "../../runtime/infra/redis.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { REDIS_URL } from "../helpers/bus.ts";

const dataDir = mkdtempSync(join(tmpdir(), "agentbus-redis-"));
const UNREACHABLE = "redis://127.0.0.1:1";
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("choosing Redis", () => {
  it("uses REDIS_URL when it is set and answers", async () => {
    const handle = await resolveRedis({ redisUrl: REDIS_URL, dataDir, logger: silentLogger(), mayStartEmbedded: true });
    expect(handle).toMatchObject({ url: REDIS_URL, embedded: false });
  });

  it("fails with REDIS_UNAVAILABLE naming the URL when REDIS_URL does not answer", async () => {
    await expect(resolveRedis({ redisUrl: UNREACHABLE, dataDir, logger: silentLogger(), mayStartEmbedded: true })).rejects.toMatchObject({
      code: "REDIS_UNAVAILABLE",
      message: `cannot reach Redis at REDIS_URL=${UNREACHABLE}`,
    });
  });

  it("starts a private redis-server with AOF under the data folder when nothing answers, and stops it", async () => {
    const handle = await resolveRedis({ redisUrl: undefined, defaultUrl: UNREACHABLE, dataDir, logger: silentLogger(), mayStartEmbedded: true });
    try {
      expect(handle.embedded).toBe(true);
      expect(await ping(handle.url)).toBe(true);
      const client = new Redis(handle.url);
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
      expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
      expect(await client.config("GET", "dir")).toEqual(["dir", join(dataDir, "redis")]);
      client.disconnect();
      expect(readFileSync(embeddedUrlFile(dataDir), "utf8").trim()).toBe(handle.url);
      // A client command (no permission to start one) finds the running embedded server.
      const found = await resolveRedis({ redisUrl: undefined, defaultUrl: UNREACHABLE, dataDir, logger: silentLogger(), mayStartEmbedded: false });
      expect(found).toMatchObject({ url: handle.url, embedded: false });
    } finally {
      await handle.stop();
    }
    expect(await ping(handle.url)).toBe(false);
    expect(existsSync(embeddedUrlFile(dataDir))).toBe(false);
  });

  it("tells how to install redis-server when there is none", async () => {
    const attempt = resolveRedis({ redisUrl: undefined, defaultUrl: UNREACHABLE, dataDir, logger: silentLogger(), mayStartEmbedded: true, binary: "/nonexistent/redis-server" });
    await expect(attempt).rejects.toMatchObject({ code: "BINARY_MISSING" });
    await expect(attempt).rejects.toThrow(/apt-get install redis-server.*or set REDIS_URL/);
  });

  it("lets client commands fail clearly instead of starting a server", async () => {
    const empty = mkdtempSync(join(tmpdir(), "agentbus-redis-none-"));
    await expect(resolveRedis({ redisUrl: undefined, defaultUrl: UNREACHABLE, dataDir: empty, logger: silentLogger(), mayStartEmbedded: false })).rejects.toThrow(
      /run `agentbus start` first or set REDIS_URL/,
    );
    rmSync(empty, { recursive: true, force: true });
  });

  it("rejects a REDIS_URL that is not a redis URL", () => {
    expect(() => parseRedisUrl("http://x")).toThrow("must start with redis:// or rediss://");
    expect(parseRedisUrl("redis://:pw@h:7000/2")).toMatchObject({ host: "h", port: 7000, db: 2, password: "pw" });
  });
});
