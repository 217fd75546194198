import { describe, expect, it } from "vitest";
import { computeCapability, evaluate } from "../../runtime/capabilities/builtin/compute.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { capabilityContext } from "./helpers.ts";

function error(expression: string): { code: string; message: string; recoverable: boolean } {
  try {
    evaluate(expression);
  } catch (err) {
    if (err instanceof CapabilityError) return { code: err.code, message: err.message, recoverable: err.recoverable };
    throw err;
  }
  throw new Error(`${expression} did not fail`);
}

describe("compute: arithmetic", () => {
  it.each([
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 / 4", 2.5],
    ["10 % 4", 2],
    ["2 ^ 10", 1024],
    ["2 ** 3", 8],
    ["2 ^ 3 ^ 2", 512],
    ["-2 ^ 2", -4],
    ["(-2) ^ 2", 4],
    ["2 ^ -1", 0.5],
    ["--3", 3],
    ["-(4 - 6)", 2],
    [".5 + 0.25", 0.75],
    ["1.5e3", 1500],
    ["0.1 + 0.2", 0.3],
    ["sqrt(16) + abs(-3)", 7],
    ["round(2.5) + round(-2.5)", 0],
    ["round(1.005, 2)", 1.01],
    ["min(3, 1, 2) + max(3, 1, 2)", 4],
    ["floor(2.7) + ceil(2.1)", 5],
    ["2 * pi", 6.28318530717959],
    ["SQRT(9)", 3],
    ["6 × 7 − 2 ÷ 2", 41],
    ["(120 + 80 + 100) / 3", 100],
    ["-0", 0],
  ])("%s = %d", (expression, value) => {
    expect(evaluate(expression)).toBe(value);
  });

  it("returns the value and the expression", async () => {
    expect(await computeCapability().execute({ expression: " 1 + 1 " }, capabilityContext())).toEqual({ value: 2, expression: "1 + 1" });
  });
});

describe("compute: errors name what is wrong and where; none is recoverable", () => {
  it.each([
    ["1 +", "BAD_EXPRESSION", "the expression ends where a number was expected at position 4"],
    ["2 * (3 + 4", "BAD_EXPRESSION", '"(" at position 5 is never closed: found the end at position 11'],
    ["2 + 3)", "BAD_EXPRESSION", 'unmatched ")" at position 6'],
    ["2 3", "BAD_EXPRESSION", "expected an operator before the number 3 at position 3"],
    ["1,000 + 1", "BAD_EXPRESSION", '"," only separates a function\'s arguments (write 1000, not 1,000) at position 2'],
    ["foo(1)", "BAD_EXPRESSION", 'unknown name "foo" (functions: sqrt, abs, floor, ceil, round, min, max; constants: pi, e) at position 1'],
    ["sqrt(1, 2)", "BAD_EXPRESSION", "sqrt takes 1 argument, not 2 at position 1"],
    ["round(1, 2, 3)", "BAD_EXPRESSION", "round takes 1 or 2 arguments, not 3 at position 1"],
    ["1 $ 2", "BAD_EXPRESSION", 'unexpected character "$" at position 3'],
    ["", "BAD_EXPRESSION", "the expression is empty"],
    ["1 / 0", "DIVISION_BY_ZERO", "division by zero at position 3"],
    ["5 % (2 - 2)", "DIVISION_BY_ZERO", "remainder by zero at position 3"],
    ["sqrt(-1)", "MATH_ERROR", "sqrt of a negative number has no real value at position 1"],
    ["10 ^ 400", "MATH_ERROR", '"^" gives no finite number at position 4'],
    ["(-8) ^ 0.5", "MATH_ERROR", "a negative number has no real non-integer power at position 6"],
    ["1e999", "MATH_ERROR", "the number at position 1 is too large"],
  ])("%j → %s", (expression, code, message) => {
    expect(error(expression)).toEqual({ code, message, recoverable: false });
  });
});

describe("compute: hostile expressions are refused, never executed", () => {
  it.each([
    "process.exit(1)",
    "constructor.constructor('return process')()",
    "this",
    "globalThis",
    "require('fs')",
    "__proto__",
    "`${1}`",
    "1; 2",
    "x = 1",
    "[1] + 1",
    "'1' + 1",
    "eval(1)",
    "Function(1)",
  ])("%s", (expression) => {
    expect(error(expression).code).toBe("BAD_EXPRESSION");
  });

  it("limits nesting depth instead of overflowing the stack", () => {
    expect(error(`${"(".repeat(400)}1${")".repeat(400)}`).message).toBe("nests deeper than 100 levels at position 101");
    expect(error(`${"-".repeat(500)}1`).message).toMatch(/^nests deeper than 100 levels/);
    expect(evaluate(`${"(".repeat(50)}1${")".repeat(50)}`)).toBe(1);
  });

  it("limits length", () => {
    expect(error(`1${"+1".repeat(600)}`).message).toBe("the expression is longer than 1000 characters");
    expect(evaluate(`1${"+1".repeat(499)}`)).toBe(500);
  });
});
