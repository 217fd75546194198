/** extract_text: the readable text and the title of an HTML document. */
import type { Capability } from "../types.ts";
import { htmlToText } from "./html-text.ts";

export interface ExtractTextInput extends Record<string, unknown> {
  html: string;
}

export interface ExtractTextOutput extends Record<string, unknown> {
  text: string;
  title: string;
}

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
      properties: { text: { type: "string", maxLength: 200_000 }, title: { type: "string", maxLength: 2000 } },
    },
    execute: async (input) => {
      const { text, title } = htmlToText(input.html);
      return { text: text.slice(0, 200_000), title: title.slice(0, 2000) };
    },
  };
}
