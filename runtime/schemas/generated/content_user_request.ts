/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * A request enqueued by a person (CLI, HTTP API). The planning agent turns it into a plan.
 */
export interface UserRequest {
  /**
   * The question or instruction, in the user's words.
   */
  text: string;
  /**
   * Sources the request points at (web pages, files). The media itself is never inlined.
   *
   * @maxItems 200
   */
  refs?: UserRequestRef[];
  /**
   * Who asked: a user id or the name of the client that enqueued the request.
   */
  requester?: string;
  priority?: "high" | "normal" | "low";
  /**
   * Request category; memory summaries report success rates per category.
   */
  category?: string;
  /**
   * Capabilities the user asked for explicitly, in order; the planner honours them.
   *
   * @maxItems 100
   */
  steps?: string[];
}
export interface UserRequestRef {
  /**
   * src_N, as listed in the envelope's resources.source_refs.
   */
  ref_id: string;
  /**
   * Where the source lives, e.g. https://example.org/page.
   */
  uri: string;
}
