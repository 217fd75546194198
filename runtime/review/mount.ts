/**
 * Wiring for `agentbus start`: the rules loader the agents read from, and the review router mounted
 * into the HTTP server (the review component calls it); it only composes.
 */
import type { Express } from "express";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { RuntimeConfig } from "../config/config.ts";
import { systemClock, type Clock } from "../envelope/clock.ts";
import type { Logger } from "../store/db.ts";
import type { Db } from "../store/db.ts";
import type { AuditWriter } from "../store/audit-writer.ts";
import { RulesLoader } from "../rules/loader.ts";
import { MemoryWriter } from "../rules/writer.ts";
import { AccountStore } from "./auth.ts";
import type { LoginLimits } from "./http-auth.ts";
import { createReviewRouter } from "./router.ts";
import { ReviewService } from "./service.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** A loader whose approved-file check is bound once the database is known (`bind`). */
export function rulesLoaderFor(config: RuntimeConfig, logger?: Logger): { loader: RulesLoader; bind(db: Db): void } {
  let db: Db | undefined;
  const loader = new RulesLoader({
    root: config.memoryDir,
    ...(logger ? { logger } : {}),
    approvedFiles: async () => (db ? reviewService(config, db, undefined).approvedFiles() : new Map()),
  });
  return { loader, bind: (d) => void (db = d) };
}

export function reviewService(config: RuntimeConfig, db: Db, audit: AuditWriter | undefined, clock: Clock = systemClock, onDecided?: () => void): ReviewService {
  return new ReviewService({ db, writer: new MemoryWriter(config.memoryDir), audit, clock, ...(onDecided ? { onDecided } : {}) });
}

export interface ReviewMountOptions {
  config: RuntimeConfig;
  db: Db;
  audit: AuditWriter;
  loader?: RulesLoader;
  apiToken: string;
  /** The BullMQ queues the dashboard shows. */
  queues?: () => Queue[];
  clock?: Clock;
  /** Login attempts are counted here (keys under `prefix`), shared by every process of the deployment. */
  loginCounts?: { redis: Redis; prefix: string };
}

/** express-rate-limit's counts in Redis, one key space per limiter. */
export function redisLoginStore(redis: Redis, prefix: string): NonNullable<LoginLimits["store"]> {
  return (limiter) =>
    new RedisStore({
      prefix: `${prefix}:login-limit:${limiter}:`,
      // ioredis's generic command call; the store sends only EVALSHA/SCRIPT/GET/DEL with string args.
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    });
}

export async function reviewMount(o: ReviewMountOptions): Promise<(app: Express) => void> {
  // The file is written inside the decision's transaction, so a watcher may see it before the
  // approval commits and hold it back as unapproved; this process's loader re-reads once it has
  // (a failed re-read is left to the loader's own periodic rescan, which logs).
  const loader = o.loader;
  const service = reviewService(o.config, o.db, o.audit, o.clock, loader ? () => void loader.refresh().catch(() => undefined) : undefined);
  const accounts = new AccountStore(o.db, o.clock ?? systemClock);
  const dashboard = o.queues ? await queueDashboard(o.queues()) : undefined;
  const router = createReviewRouter({
    service,
    accounts,
    db: o.db,
    ...(o.loader ? { loader: o.loader } : {}),
    apiToken: o.apiToken,
    ...(o.loginCounts ? { loginLimits: { store: redisLoginStore(o.loginCounts.redis, o.loginCounts.prefix) } } : {}),
    // Plain-http cookies only when nobody off this machine can reach the server.
    insecureLoopbackCookies: LOOPBACK.has(o.config.httpHost) && !o.config.reviewSecureCookies,
    ...(dashboard ? { queueDashboard: () => dashboard } : {}),
  });
  return (app) => void app.use(router);
}

/** bull-board over the given queues, served under /admin/queues (behind the review login). */
export async function queueDashboard(queues: Queue[]): Promise<import("express").Router> {
  const { createBullBoard } = await import("@bull-board/api");
  const { BullMQAdapter } = await import("@bull-board/api/bullMQAdapter");
  const { ExpressAdapter } = await import("@bull-board/express");
  const adapter = new ExpressAdapter();
  adapter.setBasePath("/admin/queues");
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })), serverAdapter: adapter });
  return adapter.getRouter() as import("express").Router;
}
