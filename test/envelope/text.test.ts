import { describe, expect, it } from "vitest";
import { describeUnsafeChar, firstUnsafeChar, normalizeText } from "../../runtime/envelope/text.ts";

describe("text that cannot be stored", () => {
  it("finds NUL and lone surrogates, and lets surrogate pairs and ordinary text through", () => {
    expect(firstUnsafeChar("What is 2+2? \u0000")).toEqual({ index: 13, what: "NUL character (U+0000)", code: "U+0000" });
    expect(firstUnsafeChar("a\ud800b")).toEqual({ index: 1, what: "lone surrogate", code: "U+D800" });
    expect(firstUnsafeChar("\udc00")).toMatchObject({ index: 0, what: "lone surrogate", code: "U+DC00" });
    expect(firstUnsafeChar("end\ud83d")).toMatchObject({ index: 3, code: "U+D83D" });
    expect(firstUnsafeChar("emoji 😀 and ünïcödé, tab\t, newline\n")).toBeNull();
    expect(describeUnsafeChar(firstUnsafeChar("x\u0000")!)).toBe("contains a NUL character (U+0000) at offset 1; remove it or send the text as valid UTF-8");
  });

  it("normalises fetched or generated text: NUL removed, lone surrogates replaced, pairs kept", () => {
    expect(normalizeText("a\u0000b\ud800c😀\udc00")).toEqual({ text: "ab\ufffdc😀\ufffd", changed: 3 });
    const clean = "nothing to change 😀";
    expect(normalizeText(clean)).toEqual({ text: clean, changed: 0 });
    expect(firstUnsafeChar(normalizeText("\ud800\u0000\udfff").text)).toBeNull();
  });
});
