/**
 * Sentence and word splitting for the text capabilities: the platform's sentence segmenter
 * (Intl.Segmenter), with paragraph and line breaks as hard boundaries and common abbreviations
 * ("Dr.", "e.g.", "U.S.", initials) not ending a sentence.
 */

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

const ABBREVIATIONS = new Set(
  (
    "mr mrs ms dr prof sr jr st mt vs etc e.g i.e inc ltd co corp no nos fig figs approx est dept univ gen gov sen rep " +
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u a.m p.m ph.d cf al"
  ).split(" "),
);

/** Sentences of `text` in order, whitespace collapsed, empty ones dropped. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\n/)) {
    let pending = "";
    for (const { segment } of segmenter.segment(line)) {
      pending += segment;
      if (endsWithAbbreviation(pending)) continue;
      push(out, pending);
      pending = "";
    }
    push(out, pending);
  }
  return out;
}

function push(out: string[], sentence: string): void {
  const s = sentence.replace(/\s+/g, " ").trim();
  if (s !== "") out.push(s);
}

function endsWithAbbreviation(segment: string): boolean {
  const last = /(\S+)\.\s*$/.exec(segment)?.[1];
  if (!last) return false;
  const word = last.replace(/^[("'\u2018\u201c[]+/, "");
  // A single capital letter is an initial ("J. R. R. Tolkien").
  return /^\p{Lu}$/u.test(word) || ABBREVIATIONS.has(word.toLowerCase());
}

/** Lower-case words (letters and digits, inner apostrophes and hyphens kept). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['\u2019-][\p{L}\p{N}]+)*/gu) ?? [];
}
