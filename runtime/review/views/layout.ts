/** The page frame and small helpers every review view uses. All dynamic text goes through `t()`. */
import { escapeHtml, showText } from "../escape.ts";

/** A value as text: strings as they are, numbers and booleans printed, anything else as JSON. */
export function textOf(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v) ?? "";
}

/** Trusted HTML (built by the views from escaped parts). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Untrusted text → HTML: escaped, invisible characters made visible. */
export const t = (v: unknown): Html => new Html(showText(textOf(v)));
/** For attribute values that are ids, hashes or URLs we built ourselves. */
export const a = (v: unknown): string => escapeHtml(textOf(v));

/** Template tag: interpolated values are escaped unless they are Html (or arrays of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join("");
  if (v === null || v === undefined || v === false) return "";
  return showText(textOf(v));
}

export interface PageUser {
  name: string;
  role: string;
  csrf: string;
}

export function page(title: string, body: Html, user: PageUser | null, options: { nav?: string } = {}): string {
  const nav = user
    ? html`<nav class="top">
        <a class="brand" href="/review">agentbus review</a>
        <a href="/review?state=pending" class="${options.nav === "pending" ? "on" : ""}">Pending</a>
        <a href="/review?state=approved" class="${options.nav === "approved" ? "on" : ""}">Approved</a>
        <a href="/review?state=all" class="${options.nav === "all" ? "on" : ""}">All rules</a>
        <a href="/review/files" class="${options.nav === "files" ? "on" : ""}">Rule files</a>
        <a href="/admin/queues/">Queues</a>
        <span class="who">${user.name} · ${user.role}</span>
        <form method="post" action="/review/logout" class="inline">${csrfField(user.csrf)}<button class="link">Log out</button></form>
      </nav>`
    : html`<nav class="top"><span class="brand">agentbus review</span></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · agentbus review</title>
<link rel="stylesheet" href="/review/static/review.css"><script src="/review/static/review.js" defer></script></head>
<body>${nav.value}<main>${body.value}</main>
<footer>Shortcuts: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open, <kbd>n</kbd> next pending, <kbd>a</kbd> approve, <kbd>r</kbd> reject, <kbd>?</kbd> help</footer>
</body></html>`;
}

export function csrfField(token: string): Html {
  return new Html(`<input type="hidden" name="_csrf" value="${a(token)}">`);
}

export function badge(kind: string, label?: string): Html {
  return html`<span class="badge b-${new Html(a(kind))}">${label ?? kind}</span>`;
}

export function pct(v: number | null): string {
  return v === null ? "–" : `${(v * 100).toFixed(1)}%`;
}

export function num(v: number | null, digits = 1): string {
  return v === null ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

export function when(d: Date | string | null): string {
  if (!d) return "–";
  return new Date(d).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
