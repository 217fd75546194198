/**
 * Login attempts are counted in Redis, so two review servers of one deployment (two `agentbus
 * start` processes behind one address) share one limit: failures spread over both still lock the
 * account after the same number. With Redis unreachable the limiter lets logins through to the
 * password check instead of failing them.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisLoginStore } from "../../runtime/review/mount.ts";
import { dropPrefix, REDIS_URL, uniquePrefix } from "../helpers/bus.ts";
import { PASSWORD, startApp } from "./app.ts";
import { startReview, type ReviewHarness } from "./helpers.ts";

const prefix = uniquePrefix("loginlimit");
let h: ReviewHarness;
let redis: Redis;
let apps: Array<Awaited<ReturnType<typeof startApp>>> = [];

beforeAll(async () => {
  h = await startReview("login_limit");
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = redisLoginStore(redis, prefix);
  apps = [await startApp(h, { loginLimits: { perIp: 1000, perAccount: 4, store } }), await startApp(h, { loginLimits: { perIp: 1000, perAccount: 4, store } })];
  await apps[0]!.accounts.create("olga", "reviewer", PASSWORD);
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  redis?.disconnect();
  await dropPrefix(prefix);
  await h?.teardown();
});

const attempt = (url: string, password: string) =>
  fetch(`${url}/api/rules/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "olga", password }) }).then((r) => r.status);

describe("login rate limit across processes", () => {
  it("counts failures on both servers against one limit", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push(await attempt(apps[i % 2]!.url, "not the password at all"));
    // Four failures allowed in all, whichever server saw them; then both refuse.
    expect(codes).toEqual([401, 401, 401, 401, 429, 429]);
    expect(await attempt(apps[1]!.url, PASSWORD)).toBe(429);
    expect((await redis.keys(`${prefix}:login-limit:account:*`)).length).toBe(1);
  });

  it("with Redis unreachable, a login still reaches the password check", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    dead.on("error", () => undefined);
    const app = await startApp(h, { loginLimits: { perAccount: 4, store: redisLoginStore(dead, prefix) } });
    try {
      expect(await attempt(app.url, "not the password at all")).toBe(401);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
