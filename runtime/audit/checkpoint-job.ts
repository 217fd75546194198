/**
 * The periodic checkpoint: a BullMQ job scheduler on its own queue fires every N minutes; whichever
 * `agentbus start` process takes the job signs the audit log's current commitment and exports it to
 * the checkpoint folder (outside the database). A log that has not grown gets no new checkpoint.
 */
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Db } from "../store/db.ts";
import { recordCheckpoint, type Recorded } from "./checkpoints.ts";
import { loadOrCreateSigningKey } from "./keys.ts";

export const CHECKPOINT_QUEUE = "audit-checkpoint";
export const CHECKPOINT_SCHEDULER_ID = "audit-checkpoint";

export interface CheckpointJobOptions {
  db: Db;
  connection: Redis;
  workerConnection: Redis;
  prefix: string;
  everyMinutes: number;
  keyFile: string;
  origin: string;
  dir: string;
  logger: Logger;
}

export class CheckpointJob {
  private readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(private readonly options: CheckpointJobOptions) {
    this.queue = new Queue(CHECKPOINT_QUEUE, { connection: options.connection, prefix: options.prefix });
  }

  /** Registers (or updates) the schedule and starts taking checkpoint jobs. */
  async start(): Promise<void> {
    await this.queue.upsertJobScheduler(CHECKPOINT_SCHEDULER_ID, { every: this.options.everyMinutes * 60_000 }, { name: "checkpoint", opts: { removeOnComplete: 50, removeOnFail: 50 } });
    this.worker = new Worker(CHECKPOINT_QUEUE, () => this.run(), { connection: this.options.workerConnection, prefix: this.options.prefix, concurrency: 1 });
    this.worker.on("error", (err) => this.options.logger.error({ err: err.message }, "checkpoint worker error"));
  }

  /** One checkpoint; also what `agentbus audit checkpoint` does. */
  async run(): Promise<Recorded> {
    const { db, keyFile, origin, dir, logger } = this.options;
    try {
      const recorded = await recordCheckpoint(db, loadOrCreateSigningKey(keyFile, origin), { origin, dir });
      const { size, root } = recorded.checkpoint;
      if (recorded.fresh) logger.info({ size, root, files: recorded.files }, "audit checkpoint signed");
      return recorded;
    } catch (err) {
      logger.error({ err }, "AUDIT CHECKPOINT REFUSED OR FAILED");
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
