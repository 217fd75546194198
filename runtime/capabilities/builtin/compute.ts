/**
 * compute: a safe arithmetic evaluator. A tokenizer and a recursive-descent parser build a small
 * tree that is then evaluated; nothing is ever handed to eval or Function. Grammar:
 *
 *   expr    := term (("+" | "-") term)*
 *   term    := unary (("*" | "/" | "%") unary)*
 *   unary   := ("-" | "+") unary | power
 *   power   := primary (("^" | "**") unary)?          right-associative; -2^2 = -4
 *   primary := number | constant | name "(" expr ("," expr)* ")" | "(" expr ")"
 *
 * Functions: sqrt, abs, round(x[, digits]), floor, ceil, min, max; constants: pi, e. Syntax errors
 * are BAD_EXPRESSION naming the position (1-based); x/0 and x%0 are DIVISION_BY_ZERO; a result that
 * is not a finite number (sqrt(-1), 10^400) is MATH_ERROR. None is recoverable.
 */
import { CapabilityError } from "../errors.ts";
import type { Capability } from "../types.ts";

export interface ComputeInput extends Record<string, unknown> {
  expression: string;
}

export interface ComputeOutput extends Record<string, unknown> {
  value: number;
  expression: string;
}

export const MAX_EXPRESSION_LENGTH = 1000;
const MAX_DEPTH = 100;

export function computeCapability(): Capability<ComputeInput, ComputeOutput> {
  return {
    name: "compute",
    description: "Evaluates an arithmetic expression: + - * / % ^, parentheses, decimals, sqrt abs round floor ceil min max, pi, e.",
    consumes: { expression: "expression" },
    produces: { value: "number" },
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["expression"],
      properties: { expression: { type: "string", minLength: 1, maxLength: MAX_EXPRESSION_LENGTH } },
    },
    outputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["value", "expression"],
      properties: { value: { type: "number" }, expression: { type: "string" } },
    },
    execute: async (input) => ({ value: evaluate(input.expression), expression: input.expression.trim() }),
  };
}

type Token = { kind: "num"; value: number; pos: number } | { kind: "op" | "name"; value: string; pos: number } | { kind: "end"; pos: number };

type Node =
  | { type: "num"; value: number }
  | { type: "neg"; arg: Node }
  | { type: "bin"; op: string; left: Node; right: Node; pos: number }
  | { type: "call"; name: string; args: Node[]; pos: number };

const ALIASES: Record<string, string> = { "\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u00f7": "/" };
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };
const FUNCTIONS: Record<string, { min: number; max: number }> = {
  sqrt: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  floor: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  round: { min: 1, max: 2 },
  min: { min: 1, max: 100 },
  max: { min: 1, max: 100 },
};

/** The value of an arithmetic expression, or a CapabilityError saying what is wrong and where. */
export function evaluate(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw bad(`is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const value = evalNode(new Parser(tokenize(expression)).parse());
  if (Object.is(value, -0)) return 0;
  // 0.1 + 0.2 is 0.3 here: non-integers are rounded to 15 significant digits, below float noise.
  return Number.isInteger(value) ? value : Number(value.toPrecision(15));
}

function bad(message: string, pos?: number): CapabilityError {
  return new CapabilityError("BAD_EXPRESSION", pos === undefined ? `the expression ${message}` : `${message} at position ${pos}`, { recoverable: false });
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = ALIASES[src[i] ?? ""] ?? src[i] ?? "";
    const pos = i + 1;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(src);
    if (num) {
      tokens.push({ kind: "num", value: Number(num[0]), pos });
      i += num[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(src);
    if (name) {
      tokens.push({ kind: "name", value: name[0].toLowerCase(), pos });
      i += name[0].length;
      continue;
    }
    if (ch === "*" && src[i + 1] === "*") {
      tokens.push({ kind: "op", value: "^", pos });
      i += 2;
      continue;
    }
    if ("+-*/%^(),".includes(ch)) {
      tokens.push({ kind: "op", value: ch, pos });
      i++;
      continue;
    }
    throw bad(`unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(i) ?? 0))}`, pos);
  }
  if (tokens.length === 0) throw bad("is empty");
  tokens.push({ kind: "end", pos: src.length + 1 });
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.expr();
    const t = this.peek();
    if (t.kind !== "end") {
      if (t.kind === "op" && t.value === ",") throw bad("\",\" only separates a function's arguments (write 1000, not 1,000)", t.pos);
      if (t.kind === "op" && t.value === ")") throw bad("unmatched \")\"", t.pos);
      throw bad(`expected an operator before ${describe(t)}`, t.pos);
    }
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i] ?? { kind: "end", pos: 0 };
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.kind === "op" && ops.includes(t.value);
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "end") this.i++;
    return t;
  }

  private nested<T>(pos: number, fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw bad(`nests deeper than ${MAX_DEPTH} levels`, pos);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private expr(): Node {
    let left = this.term();
    while (this.isOp("+", "-")) {
      const op = this.next();
      left = { type: "bin", op: op.kind === "op" ? op.value : "+", left, right: this.term(), pos: op.pos };
    }
    return left;
  }

  private term(): Node {
    let left = this.unary();
    while (this.isOp("*", "/", "%")) {
      const op = this.next();
      left = { type: "bin", op: op.kind === "op" ? op.value : "*", left, right: this.unary(), pos: op.pos };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp("-", "+")) {
      const op = this.next();
      const arg = this.nested(op.pos, () => this.unary());
      return op.kind === "op" && op.value === "-" ? { type: "neg", arg } : arg;
    }
    return this.power();
  }

  private power(): Node {
    const base = this.primary();
    if (!this.isOp("^")) return base;
    const op = this.next();
    return { type: "bin", op: "^", left: base, right: this.nested(op.pos, () => this.unary()), pos: op.pos };
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === "num") {
      if (!Number.isFinite(t.value)) throw new CapabilityError("MATH_ERROR", `the number at position ${t.pos} is too large`, { recoverable: false });
      return { type: "num", value: t.value };
    }
    if (t.kind === "op" && t.value === "(") {
      const inner = this.nested(t.pos, () => this.expr());
      this.expect(")", `"(" at position ${t.pos} is never closed`);
      return inner;
    }
    if (t.kind === "name") return this.name(t.value, t.pos);
    if (t.kind === "end") throw bad("the expression ends where a number was expected", t.pos);
    throw bad(`expected a number, a function or "(" but found ${describe(t)}`, t.pos);
  }

  private name(name: string, pos: number): Node {
    const fn = FUNCTIONS[name];
    if (!fn) {
      const constant = CONSTANTS[name];
      if (constant !== undefined) return { type: "num", value: constant };
      throw bad(`unknown name "${name}" (functions: ${Object.keys(FUNCTIONS).join(", ")}; constants: pi, e)`, pos);
    }
    this.expect("(", `${name} must be followed by "("`);
    const args: Node[] = [];
    this.nested(pos, () => {
      for (;;) {
        args.push(this.expr());
        if (!this.isOp(",")) break;
        this.next();
      }
    });
    this.expect(")", `${name}( at position ${pos} is never closed`);
    if (args.length < fn.min || args.length > fn.max) {
      const want = fn.min === fn.max ? `${fn.min}` : fn.max >= 100 ? `at least ${fn.min}` : `${fn.min} or ${fn.max}`;
      throw bad(`${name} takes ${want} argument${want === "1" ? "" : "s"}, not ${args.length}`, pos);
    }
    return { type: "call", name, args, pos };
  }

  private expect(op: string, message: string): void {
    const t = this.peek();
    if (t.kind === "op" && t.value === op) {
      this.next();
      return;
    }
    throw bad(`${message}: found ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  if (t.kind === "end") return "the end";
  return t.kind === "num" ? `the number ${t.value}` : `"${t.value}"`;
}

function evalNode(node: Node): number {
  switch (node.type) {
    case "num":
      return node.value;
    case "neg":
      return -evalNode(node.arg);
    case "bin":
      return binary(node.op, evalNode(node.left), evalNode(node.right), node.pos);
    case "call":
      return call(node.name, node.args.map(evalNode), node.pos);
  }
}

function binary(op: string, a: number, b: number, pos: number): number {
  if ((op === "/" || op === "%") && b === 0) {
    throw new CapabilityError("DIVISION_BY_ZERO", `${op === "/" ? "division" : "remainder"} by zero at position ${pos}`, { recoverable: false });
  }
  const r = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : op === "%" ? a % b : a ** b;
  return finite(r, op === "^" && a < 0 && !Number.isInteger(b) ? "a negative number has no real non-integer power" : `"${op}" gives no finite number`, pos);
}

function call(name: string, args: number[], pos: number): number {
  const [x = NaN, y] = args;
  switch (name) {
    case "sqrt":
      return finite(Math.sqrt(x), "sqrt of a negative number has no real value", pos);
    case "abs":
      return Math.abs(x);
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
    case "min":
      return Math.min(...args);
    case "max":
      return Math.max(...args);
    case "round":
      return round(x, y ?? 0, pos);
    default:
      throw bad(`unknown function "${name}"`, pos);
  }
}

/** Half away from zero, at `digits` decimals (0–15), without binary noise: round(1.005, 2) = 1.01. */
function round(x: number, digits: number, pos: number): number {
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw bad("round's digits must be a whole number from 0 to 15", pos);
  const f = 10 ** digits;
  const scaled = Number((Math.abs(x) * f).toPrecision(15));
  return finite((Math.sign(x) * Math.round(scaled)) / f, "round gives no finite number", pos);
}

function finite(value: number, message: string, pos: number): number {
  if (Number.isFinite(value)) return value;
  throw new CapabilityError("MATH_ERROR", `${message} at position ${pos}`, { recoverable: false });
}
