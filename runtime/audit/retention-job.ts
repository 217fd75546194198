/**
 * The scheduled retention job: a BullMQ job scheduler on the `maintenance` queue fires on the
 * configured cron; whichever `agentbus start` process takes the job prunes old delivered rows.
 */
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Clock } from "../envelope/clock.ts";
import type { Db } from "../store/db.ts";
import { applyRetention, retentionCutoff } from "../store/retention.ts";

export const MAINTENANCE_QUEUE = "maintenance";
export const RETENTION_SCHEDULER_ID = "audit-retention";

export interface RetentionJobOptions {
  db: Db;
  connection: Redis;
  workerConnection: Redis;
  prefix: string;
  cron: string;
  timezone: string;
  period: string;
  clock: Clock;
  logger: Logger;
}

export class RetentionJob {
  private readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(private readonly options: RetentionJobOptions) {
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: options.connection, prefix: options.prefix });
  }

  /** Registers (or updates) the schedule and starts taking retention jobs. */
  async start(): Promise<void> {
    const { cron, timezone, period } = this.options;
    await this.queue.upsertJobScheduler(RETENTION_SCHEDULER_ID, { pattern: cron, tz: timezone }, { name: "retention", data: { period }, opts: { removeOnComplete: 50, removeOnFail: 50 } });
    this.worker = new Worker(MAINTENANCE_QUEUE, () => this.run(), { connection: this.options.workerConnection, prefix: this.options.prefix, concurrency: 1 });
    this.worker.on("error", (err) => this.options.logger.error({ err: err.message }, "maintenance worker error"));
  }

  /** One retention pass; also what `agentbus audit prune` runs. */
  async run(period = this.options.period): Promise<{ pruned: number; cutoff: string }> {
    const cutoff = retentionCutoff(period, new Date(this.options.clock.now()));
    const { pruned } = await applyRetention(this.options.db, { olderThan: cutoff });
    this.options.logger.info({ pruned, cutoff: cutoff.toISOString(), period }, "audit retention pass done");
    return { pruned, cutoff: cutoff.toISOString() };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
