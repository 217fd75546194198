import { describe, expect, it } from "vitest";
import { extractFacts, cleanSubject } from "./facts.ts";

const simple = (text: string) => extractFacts(text).map((f) => [f.subject, f.value, f.unit]);

describe("simple facts read from result text", () => {
  it('reads "<subject> is <number>" with thousands separators and scale words', () => {
    expect(simple("The population of Lyon is 513,275.")).toEqual([["population of lyon", 513275, null]]);
    expect(simple("Its budget aside, the metro network was 2.5 million riders a day")).toEqual([["metro network", 2500000, "riders"]]);
  });

  it('reads "<subject>: <number>" and "<entity> has a <attribute> of <number>" into the same subjects', () => {
    expect(simple("Population: 513,275")).toEqual([["population", 513275, null]]);
    expect(simple("Lyon has a population of 522,228 people.")).toEqual([["population of lyon", 522228, "people"]]);
    expect(simple("Lyon's population is 522,228.")).toEqual([["population of lyon", 522228, null]]);
  });

  it("keeps only the last clause before the verb as the subject", () => {
    expect(simple("According to the 2020 census, the population of Lyon was 513,275 in 2020.")).toEqual([["population of lyon", 513275, null]]);
    expect(simple("The river is 812 km long and the tower is 330 metres tall.")).toEqual([
      ["river", 812, "km"],
      ["tower", 330, "metres"],
    ]);
  });

  it("marks approximations and skips bounds, times, dates and subjects that point elsewhere", () => {
    expect(extractFacts("The population of Lyon is about 513,000.")).toEqual([{ subject: "population of lyon", value: 513000, unit: null, approximate: true }]);
    expect(simple("The population of Lyon is more than 500,000.")).toEqual([]);
    expect(simple("The meeting is 10:30 and the deadline is 2026-11-21.")).toEqual([]);
    expect(simple("Its population is 513,275. It is 5 km wide.")).toEqual([]);
  });

  it("normalises subjects: lower case, articles and leading prepositions dropped", () => {
    expect(cleanSubject("In 2020 the Population of   Lyon ")).toBe("population of lyon");
    expect(cleanSubject("this figure")).toBeNull();
    expect(cleanSubject("2020")).toBeNull();
  });
});
