import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../runtime/store/canonical.ts";
import { canonicalReasons, jsonbCanHold, rowHash, rowHashReference, usableId, type AuditContent } from "../../runtime/store/audit-hash.ts";
import { envelope, hostileEnvelopes } from "./fixtures.ts";

describe("canonical JSON", () => {
  it("sorts keys at every depth and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it("follows JSON.stringify for the values JSON cannot hold", () => {
    expect(canonicalJson({ u: undefined, f: () => 1, n: NaN, i: -Infinity, z: -0, d: new Date(0), a: [undefined, () => 1] })).toBe(
      '{"a":[null,null],"d":"1970-01-01T00:00:00.000Z","i":null,"n":null,"z":0}',
    );
    expect(canonicalJson(undefined)).toBe("null");
    expect(() => canonicalJson({ b: 1n })).toThrow(/BigInt/);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]'); // repeated, not circular
  });

  it("is stable through a JSON round trip, for hostile values too", () => {
    for (const value of [envelope("s-1", 1), ...hostileEnvelopes]) {
      const once = canonicalJson(value);
      expect(canonicalJson(JSON.parse(once))).toBe(once);
    }
  });
});

describe("audit row hash", () => {
  const content: AuditContent = {
    chainKey: "s-1",
    sessionId: "s-1",
    messageId: "msg-pl-20260301-120000",
    outcome: "rejected",
    agent: "bus",
    reasonsJson: canonicalReasons([{ pointer: "/a", message: "bad \u0000 \ud800", rule: "schema" }]),
    envelopeJson: canonicalJson(envelope("s-1", 1)),
    recordedAt: "2026-03-01T12:00:00.000Z",
  };

  it("equals sha256 of the canonical JSON of the row's fields", () => {
    expect(rowHash(content, 7, "ab".repeat(32))).toBe(rowHashReference(content, 7, "ab".repeat(32)));
    expect(rowHash({ ...content, sessionId: null, messageId: null, reasonsJson: "null" }, 1, "0".repeat(64))).toBe(
      rowHashReference({ ...content, sessionId: null, messageId: null, reasonsJson: "null" }, 1, "0".repeat(64)),
    );
  });

  it("changes with every hashed field", () => {
    const base = rowHash(content, 1, "0".repeat(64));
    const variants: AuditContent[] = [
      { ...content, chainKey: "s-2" },
      { ...content, sessionId: null },
      { ...content, messageId: "m" },
      { ...content, outcome: "delivered" },
      { ...content, agent: "other" },
      { ...content, reasonsJson: "null" },
      { ...content, envelopeJson: "{}" },
      { ...content, recordedAt: "2026-03-01T12:00:00.001Z" },
    ];
    for (const v of variants) expect(rowHash(v, 1, "0".repeat(64))).not.toBe(base);
    expect(rowHash(content, 2, "0".repeat(64))).not.toBe(base);
    expect(rowHash(content, 1, "1".repeat(64))).not.toBe(base);
  });

  it("keeps ids only when they can be stored and read back unchanged", () => {
    expect(usableId("s-abc")).toBe("s-abc");
    for (const bad of ["", "x".repeat(257), "a\u0000b", "a\ud800", 42, null, undefined, {}]) expect(usableId(bad)).toBeNull();
    expect(jsonbCanHold('{"a":"\\u0000"}')).toBe(false);
    expect(jsonbCanHold('{"a":"\\ud800"}')).toBe(false);
    expect(jsonbCanHold('{"a":"𝄞 ü"}')).toBe(true);
    expect(JSON.parse(content.reasonsJson)).toEqual([{ pointer: "/a", message: "bad \ufffd \ufffd", rule: "schema" }]);
  });
});
