/**
 * The batch summary (memory_summary) the memory agent builds for the learning agent. Records are
 * streamed in: memory stays bounded by the number of distinct patterns, not of records.
 */
import type { WorkflowRecord } from "./record-facts.ts";
import { SummaryBuilder, type FinishOptions } from "./builder.ts";
import type { MemorySummary } from "./render.ts";
import type { SummaryLimits } from "./state.ts";

export { SummaryBuilder, type FinishOptions } from "./builder.ts";
export type { MemorySummary } from "./render.ts";
export type { SummaryLimits } from "./state.ts";
export type { WorkflowRecord } from "./record-facts.ts";

/**
 * Summarises records read page by page (e.g. from the store with a cursor): one page in memory at
 * a time, whatever the batch size.
 */
export async function summarizePages(pages: AsyncIterable<readonly WorkflowRecord[]>, options: FinishOptions, limits: Partial<SummaryLimits> = {}): Promise<MemorySummary> {
  const builder = new SummaryBuilder(limits);
  for await (const page of pages) for (const record of page) builder.add(record);
  return builder.finish(options);
}
