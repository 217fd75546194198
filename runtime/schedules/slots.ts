/**
 * Agent schedules as data: which agents have a `schedule: {cron}`, when their slots fall (in the
 * schedule's zone, the configured one by default), and the ids a slot's envelope carries. Pure: time
 * comes in as milliseconds, so tests move it instead of waiting.
 */
import { CronExpressionParser } from "cron-parser";
import { DateTime } from "luxon";
import { ConfigError } from "../errors/index.ts";
import type { JsonObject } from "../envelope/types.ts";
import type { LoadedAgent } from "../agents/loader.ts";

export const SCHEDULER_SOURCE = "batch_scheduler";
/** The request id every scheduled run carries (the seed spec's). */
export const SCHEDULED_REQUEST_ID = "batch_run";
/** The message-id abbreviation of the scheduler, as buildRequest derives it from the source. */
const SCHEDULER_ABBR = "batchscheduler";

export interface AgentScheduleEntry {
  agent: string;
  abbr: string;
  cron: string;
  timezone: string;
  content_type: string;
  content: JsonObject;
}

/** Every loaded agent with a schedule; a cron that does not parse stops the runtime from starting. */
export function agentSchedules(agents: readonly LoadedAgent[], defaultZone: string): AgentScheduleEntry[] {
  const entries: AgentScheduleEntry[] = [];
  for (const a of agents) {
    const s = a.spec.schedule;
    if (!s) continue;
    const entry: AgentScheduleEntry = {
      agent: a.name,
      abbr: a.abbr,
      cron: s.cron,
      timezone: s.timezone ?? defaultZone,
      content_type: s.content_type ?? "batch_request",
      content: (s.content as JsonObject | undefined) ?? { trigger: "schedule" },
    };
    try {
      parse(entry, Date.now());
    } catch (err) {
      throw new ConfigError(`${a.specPath}: schedule.cron "${s.cron}" does not parse: ${(err as Error).message}`);
    }
    entries.push(entry);
  }
  return entries;
}

function parse(entry: AgentScheduleEntry, currentMs: number) {
  return CronExpressionParser.parse(entry.cron, { currentDate: new Date(currentMs), tz: entry.timezone });
}

/**
 * The latest slot in (afterMs, nowMs], or null: slots missed between two ticks collapse into the
 * last one (one summary for the lot, not one per missed slot).
 */
export function lastDueSlot(entry: AgentScheduleEntry, afterMs: number, nowMs: number): number | null {
  // prev() is strictly before currentDate: start a millisecond later so a slot at nowMs counts.
  const slot = parse(entry, nowMs + 1).prev().getTime();
  return slot > afterMs && slot <= nowMs ? slot : null;
}

/** The next `count` slots after `fromMs`. */
export function nextSlots(entry: AgentScheduleEntry, fromMs: number, count: number): number[] {
  return parse(entry, fromMs).take(count).map((d) => d.getTime());
}

/** The ids of a slot's envelope: the same in every process, so the slot is sent once. */
export function slotIds(entry: AgentScheduleEntry, slotMs: number): { session_id: string; request_id: string; message_id: string } {
  const dt = DateTime.fromMillis(slotMs, { zone: entry.timezone });
  return {
    session_id: `batch-${dt.toFormat("yyyyLLdd-HHmm")}`,
    request_id: SCHEDULED_REQUEST_ID,
    // The agent's abbreviation tells apart two agents scheduled on the same minute.
    message_id: `msg-${SCHEDULER_ABBR}-${dt.toFormat("yyyyLLdd-HHmmss")}-${entry.abbr}`,
  };
}
