import { describe, expect, it } from "vitest";
import { findMentions, findMentionsCapability } from "../../runtime/capabilities/builtin/find-mentions.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { checkInput } from "../../runtime/capabilities/registry.ts";
import { capabilityContext } from "./helpers.ts";

const TEXT = `Solar power grew fast in 2024. Dr. Lee said solar panels are cheaper than ever.
Wind power grew too, but slower.

Critics of SOLAR subsidies disagree. The category of "solarpunk" fiction is unrelated.`;

describe("find_mentions", () => {
  it("finds the sentences that mention each term, case-insensitively, and counts occurrences", async () => {
    const out = await findMentionsCapability().execute({ text: TEXT, terms: ["solar", "wind power"] }, capabilityContext());
    expect(out.passages).toEqual([
      { term: "solar", passage: "Solar power grew fast in 2024." },
      { term: "solar", passage: "Dr. Lee said solar panels are cheaper than ever." },
      { term: "wind power", passage: "Wind power grew too, but slower." },
      { term: "solar", passage: "Critics of SOLAR subsidies disagree." },
    ]);
    expect(out.counts).toEqual({ solar: 3, "wind power": 1 });
  });

  it("matches whole words only, and phrases across any whitespace", () => {
    expect(findMentions("cats and a category; cat.", ["cat"]).counts).toEqual({ cat: 1 });
    expect(findMentions("new\n  york and New York", ["New York"]).counts).toEqual({ "New York": 2 });
  });

  it("reports a term that never occurs with a count of 0", () => {
    expect(findMentions(TEXT, ["hydro"])).toEqual({ passages: [], counts: { hydro: 0 } });
  });

  it("treats regex characters in terms literally", () => {
    expect(findMentions("C++ and C# (and .NET) cost $5.", ["c++", "$5", "(and"]).counts).toEqual({ "c++": 1, $5: 1, "(and": 1 });
  });

  it("keeps the first spelling of duplicate terms", () => {
    expect(findMentions("Solar.", ["Solar", "solar", " SOLAR "]).counts).toEqual({ Solar: 1 });
  });

  it("cuts very long sentences to a window around the match", () => {
    const long = `${"word ".repeat(300)}needle ${"word ".repeat(300)}`;
    const [mention] = findMentions(long, ["needle"]).passages;
    expect(mention?.passage.length).toBeLessThanOrEqual(602);
    expect(mention?.passage).toMatch(/^….*needle.*…$/);
  });

  it("refuses terms that cannot be keys of the counts object", () => {
    expect(() => findMentions("x", ["prototype"])).toThrow(CapabilityError);
    expect(() => findMentions("x", ["__proto__"])).toThrow('the term "__proto__" cannot be a key of the counts object');
  });

  it("needs at least one non-blank term (input schema)", () => {
    const cap = findMentionsCapability();
    expect(checkInput(cap, { text: "x", terms: [] })).toEqual([{ pointer: "/terms", message: "must NOT have fewer than 1 items", rule: "schema" }]);
    expect(checkInput(cap, { text: "x", terms: ["  "] })).toEqual([{ pointer: "/terms/0", message: 'must match pattern "\\S"', rule: "schema" }]);
  });
});
