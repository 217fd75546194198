/**
 * Simple numeric facts read from result text, so that two sources giving different values for the
 * same thing can be told apart. Deliberately narrow: it recognises
 *   "<subject> is|was|are|were|equals|totals|stands at <number>"   (the population of Lyon is 513,275)
 *   "<subject>: <number>"                                          (Population: 513,275)
 *   "<entity> has|had a <attribute> of <number>"                   (Lyon has a population of 513,275 → population of lyon)
 * and skips bounds ("more than 5"), times and dates, and subjects that point elsewhere ("its size").
 */

export interface Fact {
  /** Normalised: lower case, leading articles dropped, single spaces. */
  subject: string;
  value: number;
  /** The word after the number when it reads as a unit ("km", "people", "%"); null when none. */
  unit: string | null;
  /** "about", "around", … before the number: agrees with values within 5 %. */
  approximate: boolean;
}

const NUMBER = String.raw`(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)`;
const SCALE = String.raw`(?:\s+(thousand|million|billion|trillion))?`;
// No more digits, times, dates or decimals with a comma glued to the number.
const NUMBER_END = String.raw`(?![,.:/-]?\d)`;
const UNIT = String.raw`(?:\s*(%)|\s+(per\s?cent|[a-zA-Z]{1,16})\b)?`;
const APPROX = ["about", "approximately", "approx.", "around", "roughly", "nearly", "almost", "some", "circa", "c."];
const BOUND = ["over", "under", "more than", "less than", "fewer than", "at least", "at most", "up to", "above", "below"];
const FILLER = ["exactly", "just", "only", "currently", "now", "estimated at", "precisely"];
const QUALIFIER = [...APPROX, ...BOUND, ...FILLER]
  .sort((a, b) => b.length - a.length)
  .map((q) => q.replace(/\./g, "\\."))
  .join("|");
const VERBS = "is|was|are|were|equals|totals|totalled|totaled|stands at|stood at|amounts to|amounted to|reached";

const COPULA = new RegExp(String.raw`\b(?:${VERBS})\s+((?:(?:${QUALIFIER})\s+)*)${NUMBER}${NUMBER_END}${SCALE}${UNIT}`, "gi");
const COLON = new RegExp(String.raw`^\s*([A-Za-z](?:[A-Za-z0-9 '’()/-]{0,60}?[A-Za-z)])?)\s*:\s*((?:(?:${QUALIFIER})\s+)*)${NUMBER}${NUMBER_END}${SCALE}${UNIT}`, "i");
const HAS_OF = new RegExp(String.raw`\b(?:has|had)\s+(?:an?|the)\s+((?:[a-z-]+\s+){0,2}[a-z-]+)\s+of\s+((?:(?:${QUALIFIER})\s+)*)${NUMBER}${NUMBER_END}${SCALE}${UNIT}`, "gi");

const SCALES: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };
const POINTS_ELSEWHERE = new Set(["it", "its", "this", "that", "these", "those", "they", "their", "there", "he", "his", "she", "her", "we", "our", "i", "my", "you", "your", "which", "who", "what", "one", "each", "it's", "here"]);
const DROP_LEADING = new Set(["the", "a", "an", "in", "on", "at", "by", "for", "from", "since", "during", "after", "before", "as", "of", "also", "then", "now", "today", "currently"]);
// A clause ends here: the subject is what follows the last of these.
const CLAUSE_WORDS = new Set(["and", "but", "or", "while", "whereas", "that", "which", "who", "where", "when", "because", "since", "although", "though", "if", "so", "whether", "than", "said", "says", "reports", "reported", "states", "stated", "notes", "noted"]);
const NOT_UNITS = new Set(["and", "or", "but", "in", "on", "at", "to", "of", "for", "by", "with", "from", "as", "the", "a", "an", "than", "which", "that", "when", "while", "if", "so", "because", "is", "was", "are", "were", "according", "since", "after", "before", "during", "per", "this", "its", "it", "not", "then", "and/or", "until", "whereas"]);
const MAX_SUBJECT_WORDS = 6;
const MAX_FACTS = 500;

/** Every fact in a text, in order of appearance (at most 500). */
export function extractFacts(text: string): Fact[] {
  const facts: Fact[] = [];
  for (const sentence of sentences(text)) {
    for (const fact of factsInSentence(sentence)) {
      facts.push(fact);
      if (facts.length >= MAX_FACTS) return facts;
    }
  }
  return facts;
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+|\n+|\s+[•·|]\s+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

function factsInSentence(sentence: string): Fact[] {
  const out: Fact[] = [];
  const colon = COLON.exec(sentence);
  if (colon) push(out, cleanSubject(colon[1] ?? ""), colon.slice(2));
  for (const m of sentence.matchAll(HAS_OF)) {
    const entity = cleanSubject(sentence.slice(0, m.index));
    const attribute = cleanSubject(m[1] ?? "");
    if (entity && attribute) push(out, `${attribute} of ${entity}`, m.slice(2));
  }
  for (const m of sentence.matchAll(COPULA)) {
    push(out, cleanSubject(sentence.slice(0, m.index)), m.slice(1));
  }
  return out;
}

/** groups: [qualifiers, number, scale, percent sign, unit word] */
function push(out: Fact[], subject: string | null, groups: Array<string | undefined>): void {
  const [qualifiers = "", digits = "", scale, percent, word] = groups;
  if (!subject) return;
  const q = qualifiers.toLowerCase();
  if (BOUND.some((b) => q.includes(b))) return;
  let value = Number(digits.replace(/,/g, ""));
  if (!Number.isFinite(value)) return;
  if (scale) value *= SCALES[scale.toLowerCase()] ?? 1;
  const unitWord = word?.toLowerCase() ?? null;
  const unit = percent ? "%" : unitWord && /^per\s?cent$/.test(unitWord) ? "%" : unitWord && !NOT_UNITS.has(unitWord) ? unitWord : null;
  out.push({ subject, value, unit, approximate: APPROX.some((a) => q.includes(a)) });
}

/** The noun phrase just before the verb, normalised; null when it points elsewhere or is empty. */
export function cleanSubject(raw: string): string | null {
  // Only the last clause before the verb names the subject.
  const lastClause = raw.split(/[,;:()"“”–—]|\s-\s/).pop() ?? "";
  let words = lastClause.toLowerCase().replace(/[^a-z0-9'’ -]/g, " ").split(/\s+/).filter(Boolean);
  const cut = findLastIndex(words, (w) => CLAUSE_WORDS.has(w));
  if (cut >= 0) words = words.slice(cut + 1);
  words = words.slice(-MAX_SUBJECT_WORDS);
  while (words.length > 0 && (DROP_LEADING.has(words[0] ?? "") || /^\d+$/.test(words[0] ?? ""))) words = words.slice(1);
  if (words.length === 0 || POINTS_ELSEWHERE.has(words[0] ?? "")) return null;
  if (words.length === 1 && POINTS_ELSEWHERE.has(words[0] ?? "")) return null;
  // "lyon's population" and "population of lyon" are the same subject.
  const subject = words.join(" ").replace(/^(.+?)['’]s (.+)$/, "$2 of $1");
  return /[a-z]/.test(subject) && subject.length <= 80 ? subject : null;
}

function findLastIndex<T>(items: readonly T[], pred: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i] as T)) return i;
  return -1;
}

/** Two values of the same subject agree when equal, or within 5 % when either is approximate. */
export function valuesAgree(a: Fact, b: Fact): boolean {
  if (a.value === b.value) return true;
  if (!a.approximate && !b.approximate) return false;
  const scale = Math.max(Math.abs(a.value), Math.abs(b.value));
  return scale > 0 && Math.abs(a.value - b.value) / scale <= 0.05;
}
