/**
 * Envelope validation in four layers, each reporting JSON-pointer issues:
 *   1. structural guards (size, depth, forbidden keys), before anything walks the value;
 *   2. the envelope JSON Schema;
 *   3. the content: `content_type` must be registered and `content` must pass its schema;
 *   4. cross-field rules of DESIGN.md §2 and, given a route book, the agents' accepts/emits.
 */
import { DateTime, Info } from "luxon";
import type { Issue } from "../errors/index.ts";
import { ENVELOPE_SCHEMA_ID, type SchemaRegistry } from "../schemas/registry.ts";
import { checkStructure } from "./guards.ts";
import { daysInMonth, isMessageId } from "./ids.ts";
import { COMPLETE, type AgentSpec, type Envelope } from "./types.ts";

/** What validation needs to know about loaded agents to check a route. */
export interface RouteBook {
  spec(name: string): AgentSpec | undefined;
  isExternalSource(name: string): boolean;
}

export interface ValidateOptions {
  registry: SchemaRegistry;
  maxBytes: number;
  /** Without a route book only schema, content and cross-field rules are checked. */
  routes?: RouteBook;
  /** On the bus an unknown agent is an error; `agentbus validate` reports it as a warning. */
  unknownAgents?: "error" | "warn";
}

export type ValidationResult =
  | { ok: true; envelope: Envelope; issues: []; warnings: Issue[] }
  | { ok: false; envelope: undefined; issues: Issue[]; warnings: Issue[] };

export function validateEnvelope(value: unknown, options: ValidateOptions): ValidationResult {
  const warnings: Issue[] = [];
  const guard = checkStructure(value, { maxBytes: options.maxBytes });
  if (guard.length > 0) return fail(guard, warnings);

  const issues = options.registry.check(ENVELOPE_SCHEMA_ID, value);
  const env = value as Envelope;
  // Later layers only read blocks whose shape the schema confirmed, so they never throw on junk.
  const broken = (block: string): boolean => issues.some((i) => i.pointer === `/${block}` || i.pointer.startsWith(`/${block}/`));

  if (!broken("output")) issues.push(...checkContent(env, options.registry));
  issues.push(...crossFieldIssues(env, broken));
  if (options.routes && !broken("agent") && !broken("next_agent") && !broken("output")) {
    for (const issue of routeIssues(env, options.routes)) {
      if (issue.unknownAgent && options.unknownAgents === "warn") warnings.push(issue.issue);
      else issues.push(issue.issue);
    }
  }
  return issues.length > 0 ? fail(issues, warnings) : { ok: true, envelope: env, issues: [], warnings };
}

/**
 * Validation as the bus applies it on every send and receive (the gateway, and the local chain
 * runner): every layer, with the loaded agents' routes, and an unknown agent is an error.
 */
export function validateOnBus(value: unknown, options: { registry: SchemaRegistry; routes: RouteBook; maxBytes: number }): ValidationResult {
  return validateEnvelope(value, { registry: options.registry, routes: options.routes, maxBytes: options.maxBytes, unknownAgents: "error" });
}

function fail(issues: Issue[], warnings: Issue[]): ValidationResult {
  return { ok: false, envelope: undefined, issues, warnings };
}

function checkContent(env: Envelope, registry: SchemaRegistry): Issue[] {
  const type = env.output.content_type;
  const id = registry.contentSchemaId(type);
  if (!id) {
    return [{ pointer: "/output/content_type", message: `content type "${type}" is not registered (known: ${registry.contentTypeNames().join(", ")})`, rule: "content" }];
  }
  return registry.check(id, env.output.content, "/output/content", "content");
}

/** The rules beyond field types (DESIGN.md §2). Exported for unit tests of each rule. */
export function crossFieldIssues(env: Envelope, broken: (block: string) => boolean = () => false): Issue[] {
  const issues: Issue[] = [];
  const add = (pointer: string, message: string): void => void issues.push({ pointer, message, rule: "cross_field" });

  if (!broken("error") && !broken("status")) {
    const { has_error, error_code, error_message } = env.error;
    if (has_error) {
      if (error_code === null) add("/error/error_code", "must be set when has_error is true");
      if (env.status.code === "success") add("/status/code", 'must not be "success" when has_error is true');
    } else {
      if (error_code !== null) add("/error/error_code", "must be null when has_error is false");
      if (error_message !== null) add("/error/error_message", "must be null when has_error is false");
    }
  }
  if (!broken("metadata")) {
    const { sequence_number, parent_message_id } = env.metadata;
    if (sequence_number === 1 && parent_message_id !== null) add("/metadata/parent_message_id", "must be null for the first message of a session (sequence_number 1)");
    if (sequence_number > 1 && parent_message_id === null) add("/metadata/parent_message_id", "must name the parent message when sequence_number > 1");
    if (parent_message_id !== null && parent_message_id === env.message_id) add("/metadata/parent_message_id", "must not be the message's own id");
    if (parent_message_id !== null && !isMessageId(parent_message_id)) add("/metadata/parent_message_id", "must name a real date and time (YYYYMMDD-HHMMSS)");
  }
  if (!broken("message_id") && !isMessageId(env.message_id)) add("/message_id", "must name a real date and time (YYYYMMDD-HHMMSS)");
  if (!broken("timestamp")) {
    const problem = timestampProblem(env.timestamp.executed_at, env.timestamp.timezone);
    if (problem) add("/timestamp/executed_at", problem);
  }
  return issues;
}

/** Why `executed_at` is not a valid timestamp with `timezone`'s offset at that instant, or null. */
export function timestampProblem(executed_at: string, timezone: string): string | null {
  if (offsetMatchesZone(executed_at, timezone)) return null;
  // Everything the fast path does not vouch for, and every mismatch (to word it), goes to luxon.
  const parsed = DateTime.fromISO(executed_at, { setZone: true });
  if (!parsed.isValid) return "is not a valid ISO-8601 timestamp";
  const inZone = parsed.setZone(timezone);
  if (inZone.isValid && inZone.offset !== parsed.offset) {
    return `offset ${parsed.toFormat("ZZ")} does not match ${timezone} at that instant (${inZone.toFormat("ZZ")})`;
  }
  return null;
}

// The form buildEnvelope renders (luxon toISO): plain date and time, 1–9 fraction digits, Z or ±hh:mm.
const PLAIN_ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/;

/**
 * True only when `executed_at` is a plain ISO timestamp (year 1970–9999, no 24:00, no leap second)
 * whose offset is `timezone`'s offset at that instant: the same answer luxon's fromISO + setZone
 * give, at a fraction of the cost (this runs on every send and receive). False means "ask luxon".
 */
function offsetMatchesZone(executed_at: string, timezone: string): boolean {
  const m = PLAIN_ISO.exec(executed_at);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return false;
  const offHours = Number(m[9] ?? 0);
  const offMinutes = Number(m[10] ?? 0);
  if (offHours > 23 || offMinutes > 59) return false;
  const offset = (m[8] === "-" ? -1 : 1) * (offHours * 60 + offMinutes);
  const millis = m[7] ? Math.floor(parseFloat(`0.${m[7]}`) * 1000) : 0;
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
  const zone = Info.normalizeZone(timezone);
  return zone.isValid && zone.offset(instant) === offset;
}

interface RouteIssue {
  issue: Issue;
  unknownAgent: boolean;
}

/** Sender may emit this content type to this receiver; receiver accepts this sender and type. */
export function routeIssues(env: Envelope, routes: RouteBook): RouteIssue[] {
  const out: RouteIssue[] = [];
  const sender = env.agent.name;
  const receiver = env.next_agent.name;
  const type = env.output.content_type;
  const senderSpec = routes.spec(sender);
  const route = (pointer: string, message: string, unknownAgent = false): void =>
    void out.push({ issue: { pointer, message, rule: "route" }, unknownAgent });

  if (senderSpec) {
    if (senderSpec.type !== env.agent.type) route("/agent/type", `must be "${senderSpec.type}" as ${sender}'s spec declares`);
    if (!senderSpec.emits.content_types.includes(type)) route("/output/content_type", `${sender} may not emit "${type}" (its spec emits: ${senderSpec.emits.content_types.join(", ")})`);
    if (!senderSpec.emits.next_agents.includes(receiver)) route("/next_agent/name", `${sender} may not send to ${receiver} (its spec sends to: ${senderSpec.emits.next_agents.join(", ")})`);
  } else if (!routes.isExternalSource(sender)) {
    route("/agent/name", `"${sender}" is neither a loaded agent nor a known external source`, true);
  }

  if (receiver === COMPLETE) return out;
  const receiverSpec = routes.spec(receiver);
  if (!receiverSpec && routes.isExternalSource(receiver)) {
    // A known name, not an unknown one: `user`, `batch_scheduler` … only ever send (message_format.md).
    route("/next_agent/name", `"${receiver}" is an external source; nothing can be sent to it`);
    return out;
  }
  if (!receiverSpec) {
    route("/next_agent/name", `"${receiver}" is not a loaded agent (nor COMPLETE)`, true);
    return out;
  }
  if (!receiverSpec.accepts.sources.includes(sender)) route("/agent/name", `${receiver} does not accept messages from ${sender} (it accepts: ${receiverSpec.accepts.sources.join(", ")})`);
  if (!receiverSpec.accepts.content_types.includes(type)) route("/output/content_type", `${receiver} does not accept "${type}" (it accepts: ${receiverSpec.accepts.content_types.join(", ")})`);
  return out;
}
