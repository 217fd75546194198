/**
 * find_mentions: where and how often given terms occur in a text. Matching is case-insensitive on
 * whole words (a term "cat" does not match "category"; a phrase may span any whitespace). Passages
 * are the sentences that mention a term, in text order; counts are occurrences in the whole text.
 */
import { CapabilityError } from "../errors.ts";
import type { Capability } from "../types.ts";
import { sentences } from "./sentences.ts";

export interface FindMentionsInput extends Record<string, unknown> {
  text: string;
  terms: string[];
}

export interface Mention {
  term: string;
  passage: string;
}

export interface FindMentionsOutput extends Record<string, unknown> {
  passages: Mention[];
  counts: Record<string, number>;
}

const MAX_PASSAGES_PER_TERM = 20;
const MAX_PASSAGES = 200;
const MAX_PASSAGE_CHARS = 600;
/** Object keys that JSON consumers (and the message schemas) refuse. */
const RESERVED = new Set(["__proto__", "constructor", "prototype"]);

export function findMentionsCapability(): Capability<FindMentionsInput, FindMentionsOutput> {
  return {
    name: "find_mentions",
    description: "Finds the sentences of a text that mention given terms (case-insensitive, whole words) and counts each term's occurrences.",
    consumes: { text: "text", terms: "terms" },
    produces: { passages: "passages" },
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["text", "terms"],
      properties: {
        text: { type: "string", maxLength: 2 * 1024 * 1024 },
        terms: { type: "array", minItems: 1, maxItems: 50, items: { type: "string", minLength: 1, maxLength: 128, pattern: "\\S" } },
      },
    },
    outputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["passages", "counts"],
      properties: {
        passages: {
          type: "array",
          maxItems: MAX_PASSAGES,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["term", "passage"],
            properties: { term: { type: "string" }, passage: { type: "string", maxLength: MAX_PASSAGE_CHARS + 2 } },
          },
        },
        counts: { type: "object", additionalProperties: { type: "integer", minimum: 0 } },
      },
    },
    execute: async (input) => findMentions(input.text, input.terms),
  };
}

export function findMentions(text: string, rawTerms: readonly string[]): FindMentionsOutput {
  const terms = distinct(rawTerms);
  const patterns = terms.map((term) => ({ term, re: termPattern(term) }));
  const counts = new Map<string, number>(terms.map((t) => [t, (text.match(termPattern(t)) ?? []).length]));
  const passages: Mention[] = [];
  const perTerm = new Map<string, number>();
  for (const sentence of sentences(text)) {
    for (const { term, re } of patterns) {
      if ((perTerm.get(term) ?? 0) >= MAX_PASSAGES_PER_TERM || passages.length >= MAX_PASSAGES) continue;
      re.lastIndex = 0;
      const m = re.exec(sentence);
      if (!m) continue;
      passages.push({ term, passage: excerpt(sentence, m.index, m[0].length) });
      perTerm.set(term, (perTerm.get(term) ?? 0) + 1);
    }
  }
  return { passages, counts: Object.fromEntries(counts) };
}

/** Trimmed terms, first spelling kept among case-insensitive duplicates. */
function distinct(raw: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of raw) {
    const term = r.replace(/\s+/g, " ").trim();
    if (RESERVED.has(term)) {
      throw new CapabilityError("BAD_INPUT", `the term "${term}" cannot be a key of the counts object; write it another way (e.g. "${term[0]?.toUpperCase() ?? ""}${term.slice(1)}")`, {
        recoverable: false,
      });
    }
    const key = term.toLowerCase();
    if (term === "" || seen.has(key)) continue;
    seen.add(key);
    out.push(term);
  }
  return out;
}

function termPattern(term: string): RegExp {
  const body = term
    .split(" ")
    .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("\\s+");
  const before = /^[\p{L}\p{N}_]/u.test(term) ? "(?<![\\p{L}\\p{N}_])" : "";
  const after = /[\p{L}\p{N}_]$/u.test(term) ? "(?![\\p{L}\\p{N}_])" : "";
  return new RegExp(`${before}${body}${after}`, "giu");
}

/** The sentence, or a window of it around the match when it is very long. */
function excerpt(sentence: string, at: number, length: number): string {
  if (sentence.length <= MAX_PASSAGE_CHARS) return sentence;
  const room = Math.max(0, MAX_PASSAGE_CHARS - length);
  const start = Math.max(0, Math.min(at - Math.floor(room / 2), sentence.length - MAX_PASSAGE_CHARS));
  const end = start + MAX_PASSAGE_CHARS;
  return `${start > 0 ? "…" : ""}${sentence.slice(start, end).trim()}${end < sentence.length ? "…" : ""}`;
}
