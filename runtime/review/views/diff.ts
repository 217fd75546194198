/** A line diff (LCS) of two texts, rendered with both sides escaped. */
import { html, Html } from "./layout.ts";

type Op = { kind: "same" | "add" | "del"; line: string };

export function diffLines(before: string, after: string): Op[] {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > 250_000) return [...a.map((line) => ({ kind: "del" as const, line })), ...b.map((line) => ({ kind: "add" as const, line }))];
  const L = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) L[i]![j] = a[i] === b[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: "same", line: a[i]! });
      i++;
      j++;
    } else if (L[i + 1]![j]! >= L[i]![j + 1]!) out.push({ kind: "del", line: a[i++]! });
    else out.push({ kind: "add", line: b[j++]! });
  }
  while (i < a.length) out.push({ kind: "del", line: a[i++]! });
  while (j < b.length) out.push({ kind: "add", line: b[j++]! });
  return out;
}

export function renderDiff(label: string, before: string, after: string): Html {
  if (before === after) return html`<div class="diff-field"><h4>${label}</h4><p class="muted">unchanged</p></div>`;
  const ops = diffLines(before, after);
  return html`<div class="diff-field"><h4>${label}</h4><pre class="diff">${ops.map((o) => html`<span class="d-${o.kind}">${o.kind === "add" ? "+ " : o.kind === "del" ? "− " : "  "}${o.line}</span>\n`)}</pre></div>`;
}
