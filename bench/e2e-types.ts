/** Options and figures of the end-to-end bench (bench/e2e.ts). */
import type { CpuProbes, CpuSpent } from "./scenarios.ts";
import type { Stage } from "./e2e-stages.ts";
export interface E2eOptions {
  redisUrl: string;
  prefix: string;
  databaseUrl: string;
  schema: string;
  /** Measured sessions (after the warm-up). */
  sessions: number;
  /** Sessions of the warm-up closed loop (after one single session that checks the plan). */
  warmup: number;
  inFlight: number;
  pollMs: number;
  probes: CpuProbes;
  log: (msg: string) => void;
}

export interface Dist {
  p50: number;
  p99: number;
  mean: number;
  max: number;
}


export interface E2eFigures {
  request: string;
  plan: string[];
  agents: Array<{ name: string; concurrency: number }>;
  sessions: number;
  /** The single plan-checking session plus the warm-up loop's. */
  warmup_sessions: number;
  /** Submitted after the measured ones to keep the loop full until the last measured one finished. */
  tail_sessions: number;
  in_flight: number;
  poll_ms: number;
  /**
   * finished_in_window / window: every session (warm-up, measured or tail) found finished between
   * the first measured submit and the last measured finish, with `in_flight` open all along.
   */
  sessions_per_s: number;
  /** The window: first measured submit → the poll that found the last measured session finished. */
  ms: number;
  /** Sessions (any phase) found finished in the window. */
  finished_in_window: number;
  /**
   * The same rate from the measured sessions alone: (sessions − 1) / (first measured finish → last).
   * A shorter interval; it differs from sessions_per_s by where the latency waves (see
   * latency_by_tenth_ms) fall, a hint of how precise either is.
   */
  measured_sessions_per_s: number;
  /**
   * Mean recorded latency of each tenth of the measured sessions, in submission order. It moves in
   * waves: sessions advance in cohorts (the warm-up starts 200 at once, and dispatch_agent's queue
   * is FIFO), so a run's figures depend a little on where it cuts them.
   */
  latency_by_tenth_ms: number[];
  /** finished_at − started_at of the session row, both written by the runtime. */
  latency_recorded_ms: Dist;
  /** submit() called → the poll that saw finished_at: what this closed-loop client waited. */
  latency_observed_ms: Dist;
  /** How long RequestService.submit took (validation, bus.publish, the session row upsert). */
  submit_ms: Dist;
  statuses: Record<string, number>;
  not_success: Array<{ session_id: string; status: string; error: unknown }>;
  /** Warm-up and tail sessions that did not end in success (they are not in `statuses`). */
  other_not_success: number;
  workflow_records: { written: number; statuses: Record<string, number>; last_after_ms: number };
  audit: {
    rows: number;
    rows_per_session: number;
    flushes: number;
    rows_per_flush: number;
    verify_ok: boolean;
    verify_problem: string | null;
    verify_chains: number;
    verify_rows: number;
    verify_ms: number;
  };
  poll: { queries: number; mean_query_ms: number };
  cpu_per_session_ms: { node: number; redis: number; postgres: number };
  stages: Stage[];
  /** 1-minute load average when this section started and ended (the machine may be shared). */
  load: { start: number; end: number };
}

export interface Finished {
  sessionId: string;
  status: string;
  error: unknown;
  recordedMs: number;
  observedMs: number;
  submitMs: number;
  /** performance.now() of the poll that found it finished. */
  seenAt: number;
  /** Its place in the order of submission (0 = the loop's first). */
  index: number;
}

export interface LoopResult {
  /** The measured sessions, in the order they were found finished. */
  measured: Finished[];
  /** The window: first measured submit → last measured session found finished. */
  ms: number;
  /** Sessions of any phase found finished inside the window. */
  finishedInWindow: number;
  /** Every session the loop submitted. */
  all: string[];
  /** Sessions submitted after the measured ones, to keep the loop full (finished untimed). */
  tail: number;
  /** Warm-up and tail sessions that did not end in success. */
  otherNotSuccess: number;
  queries: number;
  queryMs: number;
  /** CPU spent in the window. */
  cpu: CpuSpent;
  /** The audit writer in the window. */
  writer: { flushes: number; written: number };
}

