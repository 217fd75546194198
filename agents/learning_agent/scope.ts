/**
 * The learning agent's scope limits (seed spec "Scope Validation", DESIGN §5.4), in code: a rule
 * may target only the planning, action, dispatch and reasoning agents, and may not touch
 * governance or memory files or the strategic agents. Rule text may come from an LLM, so it is
 * read the way a person would read it: case, Unicode look-alikes, separators, backslashes and
 * percent-encoding do not hide a name.
 */

export const ALLOWED_TARGETS = ["planning_agent", "action_agent", "dispatch_agent", "reasoning_agent"] as const;
export type AllowedTarget = (typeof ALLOWED_TARGETS)[number];

/** Effect ops and the agent that applies each: a rule's effect must be one its target applies. */
export const EFFECT_TARGETS: Readonly<Record<string, readonly AllowedTarget[]>> = {
  no_retry: ["dispatch_agent", "action_agent"],
  max_attempts: ["dispatch_agent", "action_agent"],
  insert_before: ["planning_agent"],
  prefer_order: ["planning_agent"],
  dedupe: ["planning_agent"],
  flag_source_conflict: ["reasoning_agent"],
};

export type ScopeVerdict = { ok: true } | { ok: false; reason: string };

/** The parts of a rule the check reads; anything else in the object is ignored. */
export interface ScopedRule {
  target_agent?: unknown;
  trigger_condition?: unknown;
  instruction?: unknown;
  rationale?: unknown;
  effect?: unknown;
}

const FORBIDDEN_TEXT: Array<{ pattern: RegExp; what: string }> = [
  { pattern: /(^|[^a-z0-9])governance\//, what: "the governance folder" },
  { pattern: /(^|[^a-z0-9])context\/governance/, what: "the governance files" },
  { pattern: /application[ _-]?\.?md/, what: "context/application.md" },
  { pattern: /message[ _-]?format/, what: "the governance file message_format.md" },
  { pattern: /(^|[^a-z0-9])audit[ _-]?\.md/, what: "the governance file audit.md" },
  { pattern: /context\/memory/, what: "context/memory/ (only the approval path writes there)" },
  { pattern: /agent\/operational\//, what: "the agent specs" },
  { pattern: /(^|[^a-z0-9])(objective|goal)[ _-]?agents?($|[^a-z0-9])/, what: "the objective/goal agents (strategic intent is fixed by the system designers)" },
  { pattern: /(^|[^a-z0-9])(learning|memory)[ _-]?agents?($|[^a-z0-9])/, what: "the memory/learning agents (rules may not change the learning loop itself)" },
];

export function checkRuleScope(rule: ScopedRule): ScopeVerdict {
  const target = normaliseAgent(rule.target_agent);
  if (!target) return { ok: false, reason: "the rule has no target_agent" };
  if (!(ALLOWED_TARGETS as readonly string[]).includes(target)) {
    return { ok: false, reason: `target_agent ${JSON.stringify(rule.target_agent)} is out of scope: rules may target only ${ALLOWED_TARGETS.join(", ")}` };
  }
  for (const field of ["trigger_condition", "instruction", "rationale"] as const) {
    const hit = forbiddenIn(rule[field]);
    if (hit) return { ok: false, reason: `${field} names ${hit}: the learning agent cannot change governance or memory files, nor other agents than ${ALLOWED_TARGETS.join(", ")}` };
  }
  if (rule.effect !== undefined) {
    const hit = forbiddenIn(JSON.stringify(rule.effect));
    if (hit) return { ok: false, reason: `effect names ${hit}` };
    const op = typeof rule.effect === "object" && rule.effect !== null ? (rule.effect as { op?: unknown }).op : undefined;
    const appliers = typeof op === "string" ? EFFECT_TARGETS[op] : undefined;
    if (!appliers) return { ok: false, reason: `effect op ${JSON.stringify(op)} is not one the agents apply (${Object.keys(EFFECT_TARGETS).join(", ")})` };
    if (!appliers.includes(target as AllowedTarget)) return { ok: false, reason: `effect ${String(op)} is applied by ${appliers.join(" or ")}, not by ${target}` };
  }
  return { ok: true };
}

/** "Objective Agent", "objective-agent", "ＯＢＪＥＣＴＩＶＥ_agent" → objective_agent. */
export function normaliseAgent(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const flat = normaliseText(value).trim().replace(/[\s-]+/g, "_");
  if (!flat) return undefined;
  return flat.endsWith("_agent") ? flat : `${flat}_agent`;
}

function forbiddenIn(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = normaliseText(value);
  for (const { pattern, what } of FORBIDDEN_TEXT) if (pattern.test(text)) return what;
  return undefined;
}

const INVISIBLE = /[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]/g;

function normaliseText(value: string): string {
  let text = value.normalize("NFKC").replace(INVISIBLE, "");
  try {
    text = decodeURIComponent(text);
  } catch {
    // Not percent-encoded text: read as it is.
  }
  return text.toLowerCase().replace(/\\/g, "/").replace(/\s*\/\s*/g, "/");
}
