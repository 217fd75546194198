/**
 * The dead-letter queue: a BullMQ queue nobody consumes, holding every message that was refused
 * (invalid, forbidden route) or that failed for good, with its reasons. Inspect, fix, replay.
 */
import { createHash } from "node:crypto";
import { Queue, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Issue } from "../errors/index.ts";
import { NotFoundError } from "../errors/index.ts";
import { messageIdOf } from "./events.ts";

/** Where the message was stopped: on publish, on delivery, as a worker's reply, or in the handler. */
export type DeadLetterStage = "send" | "receive" | "reply" | "handler";

export interface DeadLetter {
  id: string;
  stage: DeadLetterStage;
  /** The worker that refused it or whose reply/handler failed; the publisher on send. */
  agent: string | null;
  /** The queue the message was meant for, if known. */
  queue: string | null;
  message_id: string | null;
  envelope: unknown;
  issues: Issue[];
  error: { code: string; message: string } | null;
  /** ISO time it was dead-lettered. */
  at: string;
}

export type DeadLetterInput = Omit<DeadLetter, "id" | "message_id" | "at"> & { at: number };

const MAX_STORED_CHARS = 4 * 1024 * 1024;
const MESSAGE_ID_SHAPE = /^msg-[a-z0-9]{2,16}-[0-9]{8}-[0-9]{6}(-[a-z0-9]{1,32})?$/;

export class DeadLetterQueue {
  readonly queue: Queue;

  constructor(name: string, connection: Redis, prefix: string) {
    this.queue = new Queue(name, { connection, prefix });
  }

  async add(input: DeadLetterInput): Promise<string> {
    const message_id = messageIdOf(input.envelope);
    const raw = JSON.stringify(input.envelope) ?? "null";
    // Keep the evidence, but not an unbounded blob: beyond the cap, keep its head and its hash.
    const envelope: unknown =
      raw.length > MAX_STORED_CHARS
        ? { truncated: true, original_chars: raw.length, sha256: sha256(raw), head: raw.slice(0, 64 * 1024) }
        : input.envelope;
    // Same message refused twice at the same stage (a redelivery) → one dead letter; a different
    // message that merely claims the same id → its own. Only a well-formed id goes into the key.
    const digest = sha256(raw).slice(0, 16);
    const key = message_id && MESSAGE_ID_SHAPE.test(message_id) ? `${message_id}__${digest}` : digest;
    const id = `dl__${input.stage}__${input.agent ?? "none"}__${key}`;
    const record: Omit<DeadLetter, "id"> = {
      stage: input.stage,
      agent: input.agent,
      queue: input.queue,
      message_id: message_id && message_id.length <= 128 ? message_id : null,
      envelope,
      issues: input.issues,
      error: input.error,
      at: new Date(input.at).toISOString(),
    };
    await this.queue.add(input.stage, record, { jobId: id, removeOnComplete: true, removeOnFail: false });
    return id;
  }

  async list(limit = 100, offset = 0): Promise<DeadLetter[]> {
    const jobs = await this.queue.getJobs(["wait", "prioritized", "delayed"], offset, offset + limit - 1, true);
    return jobs.filter((j): j is Job => Boolean(j?.id)).map(toDeadLetter);
  }

  async count(): Promise<number> {
    return this.queue.getJobCountByTypes("wait", "prioritized", "delayed");
  }

  async get(id: string): Promise<DeadLetter> {
    const job = await this.queue.getJob(id);
    if (!job?.id) throw new NotFoundError(`dead letter ${id}`);
    return toDeadLetter(job);
  }

  async remove(id: string): Promise<void> {
    await this.queue.remove(id);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function toDeadLetter(job: Job): DeadLetter {
  return { id: job.id ?? "", ...(job.data as Omit<DeadLetter, "id">) };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
