/**
 * Reading a request without an LLM: what it gives (URLs, inline text, terms, arithmetic
 * expressions) and what it asks for (a summary, mentions of terms, a computed number, page text).
 * Heuristic on purpose; the planner then chains capabilities between the two by artifact types.
 */
import type { UserRequest } from "../../runtime/agent-api.ts";

export type Goal = "summary" | "mentions" | "number" | "text";

/** The artifact type each goal asks for. */
export const GOAL_ARTIFACT: Readonly<Record<Goal, string>> = { summary: "summary", mentions: "passages", number: "number", text: "text" };

/** The category a goal files the request under (workflow records, memory summaries). */
export const GOAL_CATEGORY: Readonly<Record<Goal, string>> = { summary: "summarize", mentions: "mentions", number: "compute", text: "extract" };

const GOAL_ORDER: readonly Goal[] = ["text", "mentions", "summary", "number"];

export interface RequestAnalysis {
  /** http(s) URLs, in order of appearance (text first, then refs), without duplicates. */
  urls: string[];
  /** Things that look like links but are not http(s) (ftp:, file:, …): named when planning fails. */
  otherLinks: string[];
  /** Inline text the request hands over (after "text:", or a long quotation). */
  texts: string[];
  /** Terms to look for: quoted words, "mentions of X", "about X". */
  terms: string[];
  /** Arithmetic expressions, normalised to + - * / ^ % and parentheses. */
  expressions: string[];
  /** What the request asks for; explicit wording first, defaults when it says nothing. */
  goals: Goal[];
  /** Whether the goals were stated (false: inferred from what was given). */
  goalsStated: boolean;
  category: string;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`\])}]+/gi;
const OTHER_LINK_RE = /\b(?:ftp|ftps|file|s3|gs|mailto|data|javascript|ws|wss):[^\s<>"'`]+/gi;
const QUOTED_RE = /"([^"\n]+)"|“([^”\n]+)”|«\s*([^»\n]+?)\s*»|(?<=^|[\s(:,])'([^'\n]+)'(?=$|[\s.,;:!?)])/g;
const LONG_QUOTE_WORDS = 12;

const SUMMARY_RE = /\b(summar(?:y|ies|ise|ize|ised|ized|ising|izing)|tl;?\s?dr|gist|overview|key points|main points|recap|digest)\b/i;
const MENTIONS_RE = /\b(mention(?:s|ed|ing)?|occurrences?|occurs?|how often|how many times|passages?|quotes?|references? to|look for|search for|find (?:the )?(?:word|term|phrase)s?|where (?:does|do) .{1,60} (?:say|talk|speak))\b/i;
const TEXT_RE = /\b(extract(?:s|ed|ing)?|(?:page|full|raw|plain|main) text|text (?:of|from|on)|contents? of|get the text)\b/i;
const COMPUTE_RE = /\b(compute|calculate|calculation|evaluate|solve|arithmetic|how much is|what is|what's|whats)\b|=\s*\??\s*$/i;

const TERM_AFTER_RE = /\b(?:mentions?|mentioning|mentioned|occurrences?|references?|passages?)\s+(?:of|to|about|on)\s+([^.;:!?\n]+)|\bmention\s+([^.;:!?\n]+)|\b(?:about|regarding|concerning|for the (?:word|term)s?)\s+([^.;:!?\n]+)/gi;
const TERM_STOP_RE = /\s+(?:in|on|at|from|within|across|inside|throughout|and then|then|please)\s.*$|\s+(?:in|on|at|from)$/i;
const TERM_LEAD_RE = /^(?:the |a |an )?(?:words?|terms?|names?|phrases?|keywords?)\s+/i;
const TERM_BEFORE_RE = /\b(?:times|often)\s+(?:is|are|does|do|did|was|were)\s+(.+?)\s+(?:mentioned|named|cited|appear|appears|occur|occurs|come up|comes up|show up|shows up)\b/gi;
/** Words that point at the source rather than name something to look for. */
const NOT_TERMS = new Set(["it", "its", "this", "that", "them", "these", "those", "what", "which", "there", "here", "page", "pages", "site", "website", "web page", "webpage", "text", "article", "document", "link", "url", "source", "sources", "content", "contents", "this page", "that page"]);

const WORD_OPERATORS: ReadonlyArray<[RegExp, string]> = [
  [/\bplus\b/gi, "+"],
  [/\bminus\b/gi, "-"],
  [/\b(?:times|multiplied by)\b/gi, "*"],
  [/\bdivided by\b/gi, "/"],
  [/\bto the power of\b/gi, "^"],
  [/×/g, "*"],
  [/÷/g, "/"],
  [/−/g, "-"],
];
const NUM = String.raw`\d+(?:\.\d+)?`;
const EXPRESSION_RE = new RegExp(String.raw`[-+(]*\s*${NUM}\s*\)*(?:\s*(?:\*\*|[-+*/^%])\s*[-+(]*\s*${NUM}\s*\)*)+`, "g");

export function analyzeRequest(request: Pick<UserRequest, "text" | "refs" | "category">): RequestAnalysis {
  const text = request.text;
  const urls = unique([...matches(text, URL_RE).map(trimLink), ...(request.refs ?? []).map((r) => r.uri).filter((u) => /^https?:\/\//i.test(u))]);
  const otherLinks = unique(matches(text, OTHER_LINK_RE).map(trimLink));
  // What remains once links are gone is where terms, text and numbers are looked for.
  const rest = text.replace(URL_RE, " ").replace(OTHER_LINK_RE, " ");

  const texts: string[] = [];
  const terms: string[] = [];
  for (const m of rest.matchAll(QUOTED_RE)) {
    const quoted = (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim();
    if (!quoted) continue;
    if (wordCount(quoted) >= LONG_QUOTE_WORDS) texts.push(quoted);
    else terms.push(quoted);
  }
  const unquoted = rest.replace(QUOTED_RE, " ");
  const inline = inlineText(unquoted);
  if (inline) texts.push(inline);
  const instruction = inline ? unquoted.slice(0, unquoted.indexOf(inline)) : unquoted;
  if (terms.length === 0) terms.push(...termsFromPhrases(instruction));

  const expressions = findExpressions(instruction);
  const stated = statedGoals(instruction, expressions);
  const goals = stated.length > 0 ? stated : defaultGoals({ urls, texts, terms, expressions });
  const category = request.category ?? categoryOf(goals);
  return { urls, otherLinks, texts: unique(texts), terms: unique(terms), expressions, goals, goalsStated: stated.length > 0, category };
}

export function categoryOf(goals: readonly Goal[]): string {
  return goals.length === 0 ? "unknown" : goals.map((g) => GOAL_CATEGORY[g]).join("+");
}

function statedGoals(instruction: string, expressions: readonly string[]): Goal[] {
  const found = new Set<Goal>();
  if (SUMMARY_RE.test(instruction)) found.add("summary");
  if (MENTIONS_RE.test(instruction)) found.add("mentions");
  if (TEXT_RE.test(instruction)) found.add("text");
  if (expressions.length > 0 && (COMPUTE_RE.test(instruction) || isOnlyArithmetic(instruction))) found.add("number");
  else if (/\b(compute|calculate|evaluate)\b/i.test(instruction)) found.add("number");
  return GOAL_ORDER.filter((g) => found.has(g));
}

/** Nothing explicit: a source with terms → mentions; a source alone → summary; numbers alone → compute. */
function defaultGoals(given: { urls: string[]; texts: string[]; terms: string[]; expressions: string[] }): Goal[] {
  const hasSource = given.urls.length > 0 || given.texts.length > 0;
  if (hasSource) return given.terms.length > 0 ? ["mentions"] : ["summary"];
  if (given.expressions.length > 0) return ["number"];
  return [];
}

/** The word before the colon that hands text over: "Summarize this: …", "… in the following text: …". */
const HANDOVER_RE = /\b(?:text|following|this|passage|paragraph|article|content|excerpt|summar\w*|tl;?\s?dr|extract\w*|mentions?)\s*:\s/i;

/** Text handed over after a colon ("Summarize this: …"), when it is long enough to be content. */
function inlineText(rest: string): string | null {
  const m = HANDOVER_RE.exec(rest);
  if (!m) return null;
  const after = rest.slice(m.index + m[0].length).trim();
  return wordCount(after) >= 6 ? after : null;
}

function termsFromPhrases(instruction: string): string[] {
  const out: string[] = [];
  const phrases = [...instruction.matchAll(TERM_AFTER_RE), ...instruction.matchAll(TERM_BEFORE_RE)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
  for (const raw of phrases) {
    const phrase = raw.replace(TERM_STOP_RE, "").replace(TERM_LEAD_RE, "").trim();
    for (const part of phrase.split(/\s*,\s*|\s+(?:and|or|&)\s+/i)) {
      const term = part.replace(/^(?:the|a|an)\s+/i, "").replace(/[?!.]+$/, "").trim();
      if (term && !NOT_TERMS.has(term.toLowerCase()) && wordCount(term) <= 5 && /[\p{L}\p{N}]/u.test(term)) out.push(term);
    }
  }
  return out;
}

function findExpressions(instruction: string): string[] {
  let normalized = instruction;
  for (const [re, op] of WORD_OPERATORS) normalized = normalized.replace(re, op);
  const out: string[] = [];
  for (const m of normalized.matchAll(EXPRESSION_RE)) {
    const expr = balance(m[0].replace(/\*\*/g, "^").replace(/\s+/g, " ").trim());
    if (expr && /\d\s*[-+*/^%]\s*[-+(]*\s*\d/.test(expr) && !/^\d{4}-\d{2}-\d{2}$/.test(expr.replace(/\s/g, ""))) out.push(expr);
  }
  return unique(out);
}

/** Drops unmatched parentheses at the ends ("(2+3" → "2+3", "4*5)" → "4*5"). */
function balance(expr: string): string {
  let e = expr;
  const count = (s: string, c: string): number => s.split(c).length - 1;
  while (e.startsWith("(") && count(e, "(") > count(e, ")")) e = e.slice(1).trim();
  while (e.endsWith(")") && count(e, ")") > count(e, "(")) e = e.slice(0, -1).trim();
  if (e.startsWith("+")) e = e.slice(1).trim();
  return e;
}

function isOnlyArithmetic(instruction: string): boolean {
  return /^[\s\d.()+\-*/^%×÷−=?]+$/.test(instruction) || /^\s*(?:what(?:'s| is)?|how much is)?\s*[\d\s.()+\-*/^%×÷−]+[=?\s]*$/i.test(instruction);
}

function matches(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].map((m) => m[0]);
}

/** Trailing punctuation belongs to the sentence, not the link. */
function trimLink(link: string): string {
  return link.replace(/[.,;:!?]+$/, "");
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
