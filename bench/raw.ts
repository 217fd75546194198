/**
 * The baseline: plain BullMQ doing the same work as agentbus, with nothing in between. Same payload
 * (the same envelope objects), same job options and worker options as agentbus's topology, one
 * shared producer connection and one connection per worker, as the bus does.
 */
import { Queue, Worker, type Job, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { jobOptionsFor, workerOptionsFor, type QueueTopology } from "../runtime/bus/topology.ts";
import type { AgentSpec, Envelope } from "../runtime/envelope/types.ts";
import { producerConnectionOptions, workerConnectionOptions } from "../runtime/infra/redis.ts";
import { stamp } from "./probe.ts";
import { HOPS, type BenchSystem, type Target } from "./scenarios.ts";

export class RawBullMQ implements BenchSystem {
  readonly label = "raw";
  readonly sink: Target;
  readonly chain: Target;
  private readonly producer: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly jobOptions: JobsOptions;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly topology: QueueTopology,
  ) {
    this.producer = new Redis(producerConnectionOptions(redisUrl));
    this.jobOptions = jobOptionsFor(topology, undefined);
    const sinkQueue = this.queue("raw_sink");
    this.sink = this.target(["raw_sink"], () => null, (env) => sinkQueue.add("user_request", env, this.jobOptions));

    const names = Array.from({ length: HOPS }, (_, i) => `raw_hop${i + 1}`);
    const hopQueues = names.map((n) => this.queue(n));
    const first = hopQueues[0] as Queue;
    this.chain = this.target(
      names,
      (hop) => async (job: Job<Envelope>) => {
        stamp(job.data.metadata.session_id, hop);
        const next = hopQueues[hop];
        if (next) await next.add("user_request", job.data, this.jobOptions);
        return null;
      },
      (env) => first.add("user_request", env, this.jobOptions),
    );
  }

  /** The hop chain's queues, in order (the profiler wraps their add). */
  hopQueues(): Queue[] {
    return Array.from({ length: HOPS }, (_, i) => this.queue(`raw_hop${i + 1}`));
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.producer, prefix: this.prefix });
      this.queues.set(name, q);
    }
    return q;
  }

  /** Workers for `names` (hop k runs processor(k), k from 1); the last one's completions count. */
  private target(
    names: string[],
    processor: (hop: number) => ((job: Job<Envelope>) => Promise<null>) | null,
    send: (env: Envelope) => Promise<unknown>,
  ): Target {
    let running: Array<{ worker: Worker; connection: Redis }> = [];
    return {
      start: async (concurrency, onDone) => {
        const spec = { concurrency } as AgentSpec;
        running = names.map((name, i) => {
          const connection = new Redis(workerConnectionOptions(this.redisUrl));
          const fn = processor(i + 1) ?? (() => Promise.resolve(null));
          const worker = new Worker(name, fn, { connection, prefix: this.prefix, autorun: false, ...workerOptionsFor(this.topology, spec) });
          worker.on("error", (err) => process.stderr.write(`raw worker ${name} error: ${err.message}\n`));
          return { worker, connection };
        });
        running.at(-1)?.worker.on("completed", onDone);
        for (const { worker } of running) worker.run().catch((err: unknown) => process.stderr.write(`raw worker stopped: ${String(err)}\n`));
        await Promise.all(running.map(({ worker }) => worker.waitUntilReady()));
      },
      send: async (env) => {
        await send(env);
      },
      stop: async () => {
        await Promise.all(running.map(async ({ worker, connection }) => {
          await worker.close();
          await connection.quit();
        }));
        running = [];
        await Promise.all(names.map((n) => this.queue(n).obliterate({ force: true })));
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.producer.quit();
  }
}
