import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DateTime } from "luxon";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAgents, type AgentRegistry } from "../../runtime/agents/loader.ts";
import { loadConfig } from "../../runtime/config/config.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { validateEnvelope } from "../../runtime/envelope/validate.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import {
  EXPECTED_FILE,
  INVALID_DIR,
  expectedReasons,
  givesReason,
  invalidFixtureFiles,
  invalidFixtures,
  messageIdOf,
  validFixtures,
} from "../fixtures/envelopes/index.ts";

const FIXTURE_AGENTS = join(PROJECT_ROOT, "test", "fixtures", "agents");
const config = loadConfig({}, { root: PROJECT_ROOT, agentsDir: FIXTURE_AGENTS });
const registry = schemaRegistry();
const valid = validFixtures();
const invalid = invalidFixtures();
let agents: AgentRegistry;

beforeAll(async () => {
  agents = await loadAgents({ agentsDir: config.agentsDir, root: config.root, registry, externalSources: config.externalSources });
  expect(agents.broken).toEqual([]);
  expect(agents.names()).toEqual(expect.arrayContaining(["echo_agent", "fanout_agent", "flaky_agent"]));
});

/** As the bus checks: an unknown agent is an error. */
const onBus = (value: unknown) => validateEnvelope(value, { registry, routes: agents, maxBytes: config.maxEnvelopeBytes, unknownAgents: "error" });
/** As `agentbus validate` checks: an unknown agent is a warning. */
const inCli = (value: unknown) => validateEnvelope(value, { registry, routes: agents, maxBytes: config.maxEnvelopeBytes, unknownAgents: "warn" });

describe("valid envelope fixtures", () => {
  it("there are enough of them to cover requests, replies, failures, zones, bare ids and resources", () => {
    const envs = valid.map((f) => f.value as Envelope);
    expect(envs.length).toBeGreaterThanOrEqual(6);
    expect(envs).toContainEqual(
      expect.objectContaining({
        agent: { name: "user", type: "external" },
        next_agent: expect.objectContaining({ name: "echo_agent" }),
        metadata: expect.objectContaining({ sequence_number: 1, parent_message_id: null }),
      }),
    );
    expect(envs).toContainEqual(
      expect.objectContaining({
        agent: expect.objectContaining({ name: "echo_agent" }),
        next_agent: expect.objectContaining({ name: "COMPLETE" }),
        metadata: expect.objectContaining({ sequence_number: 2, parent_message_id: expect.stringMatching(/^msg-/) }),
      }),
    );
    expect(envs.some((e) => e.error.has_error && e.error.error_code !== null && e.status.code === "failed")).toBe(true);
    expect(envs.some((e) => e.timestamp.timezone !== "UTC" && !e.timestamp.executed_at.endsWith("Z"))).toBe(true);
    expect(envs.some((e) => /^msg-[a-z0-9]+-\d{8}-\d{6}$/.test(e.message_id))).toBe(true);
    expect(envs.some((e) => e.resources.source_refs.length > 0 && e.resources.storage_refs.length > 0 && e.resources.derived_refs.length > 0)).toBe(true);
  });

  it.each(valid.map((f) => [f.file, f.value] as const))("%s passes schema, content, cross-field and route rules", (_file, value) => {
    const result = onBus(value);
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(inCli(value)).toMatchObject({ ok: true, warnings: [] });
  });

  it.each(valid.map((f) => [f.file, f.value as Envelope] as const))("%s has a message id naming executed_at in its own zone", (_file, env) => {
    const at = DateTime.fromISO(env.timestamp.executed_at, { zone: env.timestamp.timezone });
    expect(at.isValid).toBe(true);
    expect(env.message_id).toMatch(new RegExp(`^msg-[a-z0-9]{2,16}-${at.toFormat("yyyyMMdd-HHmmss")}(-[a-z0-9]{1,32})?$`));
  });
});

describe("invalid envelope fixtures", () => {
  it("expected.json names exactly the files in the folder", () => {
    const onDisk = readdirSync(INVALID_DIR).filter((f) => f !== EXPECTED_FILE).sort();
    expect(Object.keys(expectedReasons()).sort()).toEqual(onDisk);
    expect(onDisk.every((f) => f.endsWith(".json"))).toBe(true);
    expect(invalidFixtureFiles()).toEqual(onDisk);
  });

  it("cover every kind of defect the governance spec names", () => {
    const rules = new Set(invalid.map((f) => f.expected.rule));
    expect([...rules].sort()).toEqual(["content", "cross_field", "guard", "route", "schema"]);
    expect(invalid.length).toBeGreaterThanOrEqual(30);
  });

  it.each(invalid.map((f) => [f.file, f.value, f.expected] as const))("%s is rejected on the bus for exactly its one defect", (_file, value, expected) => {
    const result = onBus(value);
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([{ pointer: expected.pointer, message: expect.stringContaining(expected.message_includes), rule: expected.rule }]);
    expect(result.issues.every((i) => givesReason(i, expected))).toBe(true);
  });

  it.each(invalid.map((f) => [f.file, f.value, f.expected] as const))("%s gets the same reason from `agentbus validate` (as error or, if flagged, warning)", (_file, value, expected) => {
    const result = inCli(value);
    if (expected.cli_warning_only) {
      expect(result.ok).toBe(true);
      expect(result.issues).toEqual([]);
      expect(result.warnings.some((w) => givesReason(w, expected))).toBe(true);
    } else {
      expect(result.ok).toBe(false);
      expect(result.issues.some((i) => givesReason(i, expected))).toBe(true);
    }
  });

  it("only unknown agent names are warnings in the CLI", () => {
    const flagged = invalid.filter((f) => f.expected.cli_warning_only).map((f) => f.file);
    expect(flagged.sort()).toEqual(["next-agent-not-loaded.json", "sender-not-loaded.json"]);
  });

  it("the __proto__ fixtures carry the key as an own property, so only the guard can stop them", () => {
    for (const file of ["proto-key-at-top-level.json", "proto-key-in-input-content.json"]) {
      const text = readFileSync(join(INVALID_DIR, file), "utf8");
      expect(text).toContain('"__proto__"');
      const value = invalid.find((f) => f.file === file)?.value;
      const holder = file.includes("top-level") ? value : (value as { input: { content: object } }).input.content;
      expect(Object.hasOwn(holder as object, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(holder)).toBe(Object.prototype);
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("the oversized fixtures are as large as they claim", () => {
    const bytes = (file: string): number => Buffer.byteLength(JSON.stringify(invalid.find((f) => f.file === file)?.value));
    const chars = (file: string): number => JSON.stringify(invalid.find((f) => f.file === file)?.value).length;
    expect(bytes("envelope-over-1mib.json")).toBeGreaterThan(1024 * 1024);
    // More than 1 MiB in UTF-8 bytes, but fewer characters than that: the limit is on bytes.
    expect(bytes("envelope-over-1mib-in-utf8-bytes.json")).toBeGreaterThan(1024 * 1024);
    expect(chars("envelope-over-1mib-in-utf8-bytes.json")).toBeLessThan(1024 * 1024);
    expect((invalid.find((f) => f.file === "huge-status-message.json")?.value as Envelope).status.message.length).toBeGreaterThanOrEqual(300_000);
  });
});

describe("all envelope fixtures", () => {
  it("have distinct message ids (the bus de-duplicates by id, dead letters are keyed by it)", () => {
    const ids = [...valid, ...invalid].map((f) => messageIdOf(f.value)).filter((id): id is string => id !== null);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(valid.length + invalid.length - 1);
  });
});
