/** Plain-text tables for people (CLI output): columns padded to their widest cell, two spaces apart. */

export interface Columns {
  /** One row, each cell padded to its column's width, trailing spaces cut. */
  line: (cells: readonly string[]) => string;
  /** A line of dashes under the header, as wide as each column. */
  rule: string;
}

export function columns(header: readonly string[], rows: readonly (readonly string[])[]): Columns {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return { line, rule: line(widths.map((w) => "-".repeat(w))) };
}

/** Header, a rule under it, then the rows; lines joined by newlines, no newline at the end. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const c = columns(header, rows);
  return [c.line(header), c.rule, ...rows.map(c.line)].join("\n");
}
