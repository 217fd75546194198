/**
 * The scheduler: for every loaded agent whose spec has `schedule: {cron}`, one envelope from
 * `batch_scheduler` per cron slot (DESIGN: the daily memory summary). Every `start` process runs
 * one; a slot is sent once however many run, because the slot is claimed in Redis (SET NX) before
 * it is published, and its message id is derived from the slot (the bus keeps one job per id).
 *
 * Ticks come from a plain interval, not a BullMQ job scheduler: each process only asks "did a slot
 * fall since my last tick?", the Redis claim already makes that once-only across processes, and a
 * scheduler queue would add a worker and its connection for a 30-second timer. `tick(now)` is
 * public so tests move time instead of waiting.
 */
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import { buildRequest } from "../envelope/build.ts";
import { agentSchedules, lastDueSlot, SCHEDULER_SOURCE, slotIds, type AgentScheduleEntry } from "./slots.ts";

export interface SchedulesOptions {
  /** Milliseconds between ticks (default 30 s); 0: no timer, the caller ticks. */
  intervalMs?: number;
  /** How long a slot's claim is kept in Redis (default 7 days): longer than any clock skew. */
  claimTtlS?: number;
}

export interface ScheduledRun {
  agent: string;
  slot: string;
  message_id: string;
  /** False when another process had already claimed the slot. */
  published: boolean;
}

export class SchedulesComponent implements RuntimeComponent {
  readonly name = "schedules";
  private host: ComponentHost | undefined;
  private entries: AgentScheduleEntry[] = [];
  private lastTick = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SchedulesOptions = {}) {}

  get schedules(): readonly AgentScheduleEntry[] {
    return this.entries;
  }

  start(host: ComponentHost): void {
    this.host = host;
    this.entries = agentSchedules(host.agents.list(), host.config.timezone);
    // Slots before the process started are not caught up: the first tick looks from now on.
    this.lastTick = host.clock.now();
    const interval = this.options.intervalMs ?? 30_000;
    if (interval > 0 && this.entries.length > 0) {
      this.timer = setInterval(() => {
        // One tick at a time; a failure is logged and the next tick tries again.
        this.running = this.running.then(() => this.tick()).catch((err: unknown) => host.logger.error({ err }, "schedule tick failed"));
      }, interval);
      this.timer.unref();
    }
    if (this.entries.length > 0) host.logger.info({ schedules: this.entries.map((e) => ({ agent: e.agent, cron: e.cron, timezone: e.timezone })) }, `${this.entries.length} agent schedule(s)`);
  }

  /** Publishes the last slot of each schedule that fell in (previous tick, now]. */
  async tick(now: number = this.requireHost().clock.now()): Promise<ScheduledRun[]> {
    const host = this.requireHost();
    const after = this.lastTick;
    if (now <= after) return [];
    this.lastTick = now;
    const runs: ScheduledRun[] = [];
    for (const entry of this.entries) {
      const slot = lastDueSlot(entry, after, now);
      if (slot === null) continue;
      runs.push(await this.publish(host, entry, slot, now));
    }
    return runs;
  }

  private async publish(host: ComponentHost, entry: AgentScheduleEntry, slot: number, now: number): Promise<ScheduledRun> {
    const ids = slotIds(entry, slot);
    const run = { agent: entry.agent, slot: new Date(slot).toISOString(), message_id: ids.message_id };
    const key = `${host.transport.prefix}:schedules:${entry.agent}:${slot}`;
    const claimed = await host.transport.connection.set(key, ids.message_id, "EX", this.options.claimTtlS ?? 7 * 24 * 3600, "NX");
    if (claimed !== "OK") return { ...run, published: false };
    const env = buildRequest(
      { source: SCHEDULER_SOURCE, content_type: entry.content_type, content: entry.content, to: entry.agent, reason: `scheduled run (${entry.cron}, ${entry.timezone})`, session_id: ids.session_id, request_id: ids.request_id },
      { clock: { now: () => now }, timezone: host.config.timezone },
    );
    const result = await host.bus.publish({ ...env, message_id: ids.message_id }, SCHEDULER_SOURCE);
    if (!result.accepted) host.logger.error({ agent: entry.agent, slot: run.slot, dead_letter_id: result.dead_letter_id }, "scheduled envelope refused by the bus");
    else host.logger.info({ agent: entry.agent, slot: run.slot, message_id: ids.message_id }, "scheduled run published");
    return { ...run, published: result.accepted };
  }

  private requireHost(): ComponentHost {
    if (!this.host) throw new Error("the schedules component is not started");
    return this.host;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

export function schedulesComponent(options: SchedulesOptions = {}): SchedulesComponent {
  return new SchedulesComponent(options);
}
