/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * Asks the memory agent to summarise the workflow records no batch has claimed yet (schedule, record-count threshold, or by hand).
 */
export interface BatchRequest {
  trigger: "schedule" | "threshold" | "manual";
  /**
   * Records finished before this are in the batch; absent: when the request is handled.
   */
  cutoff?: string;
}
