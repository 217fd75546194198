/**
 * The rollout guardrail on a schedule: every `intervalMs` (AGENTBUS_GUARDRAIL_INTERVAL_S, default
 * 300 s) one run of `runGuardrails` over the approved, partially rolled-out rules. Time is cut into
 * slots of one interval; a slot runs once however many `start` processes tick it, because it is
 * claimed in Redis (SET NX) first, as the agent schedules are. Each process ticks more often than
 * the interval (at most every 30 s), so a slot runs soon after it begins even when the process that
 * would have run it is gone.
 *
 * Each auto-retirement is logged at warn with the rule and the reason (the decision itself is in
 * rule_decisions and on the audit log's rules chain, by ReviewService); a failed run is logged at
 * error with its cause and the next slot tries again. Nothing is thrown out of the timer.
 * `tick(now)` is public so tests move time instead of waiting.
 */
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import { AgentbusError } from "../errors/index.ts";
import { runGuardrails, type GuardrailOptions, type GuardrailOutcome } from "./guardrail.ts";
import { reviewService } from "./mount.ts";
import type { ReviewService } from "./service.ts";
import type { Db } from "../store/db.ts";

export interface GuardrailComponentOptions {
  /** Slot length in ms; default config.guardrail.intervalS. 0: off (no timer, ticks do nothing). */
  intervalMs?: number;
  /** False: no timer, the caller ticks (tests). Default true. */
  timer?: boolean;
  /** Margins and minimum sessions; default the configuration's. */
  guardrail?: GuardrailOptions;
}

export interface GuardrailRun {
  /** Start of the slot, ISO 8601. */
  slot: string;
  /** False when another process (or an earlier tick) had already claimed the slot. */
  ran: boolean;
  outcomes: GuardrailOutcome[];
}

/** How often a process looks whether a new slot has begun. */
const MAX_TICK_MS = 30_000;

export class GuardrailComponent implements RuntimeComponent {
  readonly name = "guardrail";
  private host: ComponentHost | undefined;
  private store: { db: Db; service: ReviewService } | undefined;
  private intervalMs = 0;
  private guardrail: GuardrailOptions = {};
  private lastSlot: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GuardrailComponentOptions = {}) {}

  start(host: ComponentHost): void {
    const store = host.store;
    if (!store) throw new AgentbusError("STORE_REQUIRED", "the guardrail reads workflow records and records decisions: open the runtime with a store");
    this.host = host;
    this.store = { db: store.db, service: reviewService(host.config, store.db, store.audit, host.clock) };
    const c = host.config.guardrail;
    this.intervalMs = this.options.intervalMs ?? c.intervalS * 1000;
    this.guardrail = this.options.guardrail ?? { failureMargin: c.failureMargin, durationMargin: c.durationMargin, minSessions: c.minSessions };
    if (this.intervalMs <= 0) {
      host.logger.info("rollout guardrail off (AGENTBUS_GUARDRAIL_INTERVAL_S=0)");
      return;
    }
    if (this.options.timer !== false) {
      this.timer = setInterval(() => {
        // One tick at a time; tick() never rejects, but the chain must not break if it did.
        this.running = this.running.then(() => this.tick()).catch((err: unknown) => host.logger.error({ err }, "guardrail tick failed"));
      }, Math.min(this.intervalMs, MAX_TICK_MS));
      this.timer.unref();
    }
    host.logger.info({ interval_s: this.intervalMs / 1000, ...this.guardrail }, `rollout guardrail every ${this.intervalMs / 1000} s`);
  }

  /**
   * Runs the guardrail for the slot `now` falls in, unless that slot was claimed already (here or
   * by another process). Null when the guardrail is off. Failures are logged, never thrown.
   */
  async tick(now: number = this.requireHost().clock.now()): Promise<GuardrailRun | null> {
    const host = this.requireHost();
    const store = this.store;
    if (this.intervalMs <= 0 || !store) return null;
    const slot = Math.floor(now / this.intervalMs) * this.intervalMs;
    const run: GuardrailRun = { slot: new Date(slot).toISOString(), ran: false, outcomes: [] };
    if (this.lastSlot === slot) return run;
    try {
      const key = `${host.transport.prefix}:guardrail:${slot}`;
      // Kept a few intervals: long enough for every process to have ticked past the slot.
      const ttlS = Math.max(60, Math.ceil((this.intervalMs * 4) / 1000));
      const claimed = await host.transport.connection.set(key, String(process.pid), "EX", ttlS, "NX");
      this.lastSlot = slot;
      if (claimed !== "OK") return run;
      run.ran = true;
      run.outcomes = await runGuardrails(store.db, store.service, {
        ...this.guardrail,
        onError: (rule_id, err) => host.logger.error({ err, rule_id, slot: run.slot }, `guardrail could not judge ${rule_id}; the other rules were checked, the next slot tries it again`),
      });
    } catch (err) {
      host.logger.error({ err, slot: run.slot }, `guardrail run for the slot at ${run.slot} failed; the next slot tries again`);
      return run;
    }
    for (const o of run.outcomes.filter((x) => x.retired)) {
      host.logger.warn({ rule_id: o.rule_id, reason: o.reason, with_rule: o.with_rule, without_rule: o.without_rule }, `guardrail retired ${o.rule_id}: ${o.reason ?? ""}`);
    }
    if (run.outcomes.length > 0) host.logger.info({ slot: run.slot, checked: run.outcomes.length, retired: run.outcomes.filter((x) => x.retired).length }, "guardrail run");
    return run;
  }

  private requireHost(): ComponentHost {
    if (!this.host) throw new Error("the guardrail component is not started");
    return this.host;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

export function guardrailComponent(options: GuardrailComponentOptions = {}): GuardrailComponent {
  return new GuardrailComponent(options);
}
