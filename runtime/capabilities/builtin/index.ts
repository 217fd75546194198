/**
 * The built-in capabilities. Adding one is one file in this folder plus one line in the list below.
 */
import { CapabilityRegistry } from "../registry.ts";
import { computeCapability } from "./compute.ts";
import { extractTextCapability } from "./extract-text.ts";
import { fetchCapability, type FetchOptions } from "./fetch.ts";
import { findMentionsCapability } from "./find-mentions.ts";
import { summarizeCapability } from "./summarize.ts";

export interface BuiltinOptions {
  /** fetch's timeout (default 10 s), size limits, address allow-list (AGENTBUS_FETCH_ALLOW) and lanes. */
  fetch?: FetchOptions;
}

export function builtinCapabilities(options: BuiltinOptions = {}): CapabilityRegistry {
  return new CapabilityRegistry()
    .register(fetchCapability(options.fetch))
    .register(extractTextCapability())
    .register(findMentionsCapability())
    .register(summarizeCapability())
    .register(computeCapability());
}

export { computeCapability, evaluate } from "./compute.ts";
export { extractTextCapability } from "./extract-text.ts";
export { FETCH_DEFAULTS, fetchCapability, parseRetryAfter, type FetchOptions } from "./fetch.ts";
export { findMentions, findMentionsCapability } from "./find-mentions.ts";
export { extractiveSummary, summarizeCapability } from "./summarize.ts";
export { htmlToText } from "./html-text.ts";
export { FetchGuard, parseFetchAllow, refusedRange, type FetchAllowEntry, type FetchAllowList } from "./fetch-guard.ts";
