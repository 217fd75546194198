/** extract_text: the readable text and the title of an HTML document. */
import type { Capability } from "../types.ts";
import { htmlToText } from "./html-text.ts";

export interface ExtractTextInput extends Record<string, unknown> {
  html: string;
}

export interface ExtractTextOutput extends Record<string, unknown> {
  text: string;
  title: string;
  /** Present (true) when the text was longer than MAX_TEXT and was cut: reasoning must say so. */
  truncated?: true;
  /** Length of the whole text before the cut, and what was kept (with `truncated`). */
  total_chars?: number;
  kept_chars?: number;
}

const MAX_TEXT = 200_000;

export function extractTextCapability(): Capability<ExtractTextInput, ExtractTextOutput> {
  return {
    name: "extract_text",
    description:
      "Turns HTML into readable text: drops scripts, styles and markup, decodes entities, keeps paragraph breaks, and reads the page title.",
    consumes: { html: "html" },
    produces: { text: "text" },
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["html"],
      properties: { html: { type: "string", maxLength: 2 * 1024 * 1024 } },
    },
    outputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["text", "title"],
      properties: {
        text: { type: "string", maxLength: MAX_TEXT },
        title: { type: "string", maxLength: 2000 },
        truncated: { const: true },
        total_chars: { type: "integer", minimum: 0 },
        kept_chars: { type: "integer", minimum: 0 },
      },
    },
    execute: async (input) => {
      const { text, title } = htmlToText(input.html);
      const cut = text.length > MAX_TEXT;
      return { text: text.slice(0, MAX_TEXT), title: title.slice(0, 2000), ...(cut ? { truncated: true as const, total_chars: text.length, kept_chars: MAX_TEXT } : {}) };
    },
  };
}
