/**
 * HTML → readable text with a small linear scanner (no regex over whole tags, so hostile markup
 * cannot make it backtrack). Drops script, style, noscript, template, svg and the like with their
 * content; turns block elements into paragraph breaks and <br> into line breaks; keeps <pre> lines;
 * collapses other whitespace as a browser does; decodes character references; reads the <title>.
 */
import { decodeEntities } from "./entities.ts";

export interface HtmlText {
  text: string;
  title: string;
}

/** Elements whose content is never readable text. */
const DROPPED = new Set(["noscript", "template", "svg", "math", "iframe", "object", "canvas", "select", "head"]);
/** Elements whose content is raw text up to their end tag (title's is the page's title). */
const RAW_TEXT = new Set(["script", "style", "title"]);
const BLOCK = new Set([
  "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure",
  "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "nav", "ol", "p", "pre",
  "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
]);
const CELL = new Set(["td", "th"]);

const PARAGRAPH = "\u0000P";
const LINE = "\u0000L";
const TAG_NAME = /<(\/?)([A-Za-z][A-Za-z0-9-]*)/y;

export function htmlToText(html: string): HtmlText {
  const parts: string[] = [];
  let title = "";
  let pre = 0;
  const unclosed = new Set<string>();
  let i = 0;
  const n = html.length;
  const text = (s: string): void => {
    if (s === "") return;
    const decoded = decodeEntities(s);
    parts.push(pre > 0 ? decoded.replace(/\r\n?/g, "\n").split("\n").join(LINE) : decoded.replace(/\s+/g, " "));
  };
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      text(html.slice(i));
      break;
    }
    text(html.slice(i, lt));
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const next = html[lt + 1];
    if (next === "!" || next === "?") {
      const end = html.indexOf(">", lt);
      i = end < 0 ? n : end + 1;
      continue;
    }
    TAG_NAME.lastIndex = lt;
    const m = TAG_NAME.exec(html);
    if (!m) {
      text("<");
      i = lt + 1;
      continue;
    }
    const end = tagEnd(html, lt + m[0].length);
    i = end < 0 ? n : end + 1;
    const closing = m[1] === "/";
    const name = (m[2] ?? "").toLowerCase();
    const selfClosing = end > 0 && html[end - 1] === "/";
    if (!closing && (RAW_TEXT.has(name) || (DROPPED.has(name) && !selfClosing))) {
      // Once an element has no end tag after some point, it has none after any later point either.
      const found = unclosed.has(name) ? null : endOf(html, name, i);
      // Script, style and title run to the end of the document when unclosed (as in a browser);
      // any other element is dropped with its content only when it is closed.
      if (!found) unclosed.add(name);
      if (!found && !RAW_TEXT.has(name)) continue;
      const contentEnd = found ? found.index : n;
      if (name === "title") {
        if (title === "") title = collapse(decodeEntities(html.slice(i, contentEnd)));
      } else if (name === "head" && title === "") {
        // The head's title is the page's title; nothing else in it is text.
        title = htmlToText(html.slice(i, contentEnd).replace(/<(\/?)head\b/gi, "<$1x-head")).title;
      }
      // An implied end of the head at <body: the body tag itself is read next.
      i = !found ? n : found[0][1] !== "/" ? found.index : html.indexOf(">", found.index) + 1 || n;
      continue;
    }
    if (name === "pre") pre = Math.max(0, pre + (closing ? -1 : 1));
    if (name === "br") parts.push(LINE);
    else if (BLOCK.has(name)) parts.push(PARAGRAPH);
    else if (CELL.has(name)) parts.push(" ");
  }
  return { text: assemble(parts.join("")), title };
}

function endOf(html: string, name: string, from: number): RegExpExecArray | null {
  const close = new RegExp(name === "head" ? "</head[\\s/>]|<body[\\s/>]" : `</${name}[\\s/>]`, "gi");
  close.lastIndex = from;
  return close.exec(html);
}

/** Index of the `>` that ends a tag whose name ends at `from`; quotes after `=` are respected. */
function tagEnd(html: string, from: number): number {
  let quote = "";
  let afterEquals = false;
  for (let j = from; j < html.length; j++) {
    const c = html[j];
    if (quote) {
      if (c === quote) quote = "";
      continue;
    }
    if (c === ">") return j;
    if ((c === '"' || c === "'") && afterEquals) quote = c;
    else if (c === "=") {
      afterEquals = true;
      continue;
    }
    if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") afterEquals = false;
  }
  return -1;
}

function collapse(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Paragraphs separated by a blank line, lines by a newline, spaces collapsed and trimmed. */
function assemble(raw: string): string {
  return raw
    .split(PARAGRAPH)
    .map((para) =>
      para
        .split(LINE)
        .map((line) => line.replace(/[^\S\n]+/g, " ").trim())
        .join("\n")
        .replace(/^\n+|\n+$/g, "")
        .replace(/\n{3,}/g, "\n\n"),
    )
    .filter((para) => para !== "")
    .join("\n\n");
}
