/**
 * The approved-rule file: YAML front matter (every value written as JSON, which YAML reads back
 * unchanged: no dates or numbers guessed from strings) and a markdown body a person can read and
 * diff, with the trigger, instruction and rationale under fixed headings.
 *
 * The body must round-trip exactly, whatever the text holds (it may come from an LLM): a text line
 * that begins with `#` or `\` is written with one extra leading `\`, so no text line can pass for a
 * heading, and the parser removes exactly that `\` again.
 */
import matter from "gray-matter";
import type { MemoryRule } from "../schemas/generated/memory_rule.ts";

const HEADINGS = ["## Trigger", "## Instruction", "## Rationale"] as const;
/** Front matter fields, in the order they are written. */
const FRONT = ["rule_id", "version", "status", "target_agent", "priority", "confidence_score", "approved_by", "approved_at", "content_hash", "rollout_percent", "source_batch_id", "effect", "evidence"] as const;

export type RuleFile = MemoryRule;

export function renderRuleFile(rule: RuleFile): string {
  const lines = ["---"];
  for (const key of FRONT) {
    const value = rule[key];
    if (value !== undefined) lines.push(`${key}: ${JSON.stringify(value)}`);
  }
  lines.push("---", "", `# ${rule.rule_id} (version ${rule.version}) for ${rule.target_agent}`, "");
  lines.push("Written by the review approval path; edits here are detected and the rule is then not applied.", "");
  const texts = [rule.trigger_condition, rule.instruction, rule.rationale];
  HEADINGS.forEach((h, i) => {
    lines.push(h, "", escapeBody(texts[i] ?? ""), "");
  });
  return lines.join("\n");
}

export interface ParsedRuleFile {
  /** The front matter and body fields together, to be checked against the memory-rule schema. */
  value: Record<string, unknown>;
}

/** Parses a rule file; throws with a readable message when its shape is not the writer's. */
export function parseRuleFile(text: string): ParsedRuleFile {
  // gray-matter caches by input; a fresh object each time keeps one file's result from leaking.
  const parsed = matter(text, {});
  const front = parsed.data as Record<string, unknown>;
  const body = parsed.content;
  const starts = HEADINGS.map((h) => body.indexOf(`\n${h}\n\n`));
  if (starts.some((s) => s < 0) || !(starts[0]! < starts[1]! && starts[1]! < starts[2]!)) throw new Error("the body lacks the Trigger, Instruction and Rationale sections in that order");
  const section = (i: number): string => {
    const from = starts[i]! + HEADINGS[i]!.length + 3;
    const to = i + 1 < HEADINGS.length ? starts[i + 1]! - 1 : body.length - 1;
    if (to < from) throw new Error(`the ${HEADINGS[i]} section is cut short`);
    return unescapeBody(body.slice(from, to));
  };
  if (!body.endsWith("\n")) throw new Error("the file does not end where the writer ends it");
  return { value: { ...front, trigger_condition: section(0), instruction: section(1), rationale: section(2) } };
}

function escapeBody(text: string): string {
  return text
    .split("\n")
    .map((l) => (l.startsWith("#") || l.startsWith("\\") ? `\\${l}` : l))
    .join("\n");
}

function unescapeBody(text: string): string {
  return text
    .split("\n")
    .map((l) => (l.startsWith("\\") ? l.slice(1) : l))
    .join("\n");
}
