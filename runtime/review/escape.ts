/**
 * Rule text is untrusted (it may come from an LLM): it is rendered as text, never as HTML, and the
 * characters a reviewer could not see (zero-width, bidi controls, other control characters) are
 * shown as visible markers such as ⟨U+200B⟩, so what the reviewer reads is exactly what is stored.
 */
// C0/C1 controls except \n and \t, zero-width and joiners, bidi embeddings/overrides/isolates,
// line/paragraph separators, BOM, soft hyphen, word joiner and invisible operators, tag characters,
// variation selectors; and ⟨ itself, so a marker in the text can never pass for one.
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching these characters is the point
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\u27E8]|\uDB40[\uDC00-\uDDEF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const HTML: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => HTML[c] ?? c);
}

/** Marks invisible and control characters as ⟨U+XXXX⟩ (not yet HTML-escaped). */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    const cp = c.length === 2 ? (c.codePointAt(0) ?? 0) : c.charCodeAt(0);
    return `⟨U+${cp.toString(16).toUpperCase().padStart(4, "0")}⟩`;
  });
}

/** True when the text holds anything revealInvisible would mark. */
export function hasInvisible(text: string): boolean {
  INVISIBLE.lastIndex = 0;
  const found = INVISIBLE.test(text);
  INVISIBLE.lastIndex = 0;
  return found;
}

/** Untrusted text, ready to put between tags: invisible characters marked, then escaped. */
export function showText(text: string): string {
  return escapeHtml(revealInvisible(text)).replace(/⟨U\+([0-9A-F]{4,6})⟩/g, '<span class="cc" title="invisible character U+$1">⟨U+$1⟩</span>');
}
