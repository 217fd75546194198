/**
 * Where agentbus's time goes on the hop path, beyond raw BullMQ. Two views:
 *  1. CPU cost per call of each step agentbus adds (validation layers, reply build, ids), measured
 *     in a tight loop on a real reply envelope;
 *  2. wall time per stage of a real hop with one chain in flight, by wrapping the bus's and the
 *     host's methods on their instances (nothing in runtime/ changes), next to raw BullMQ's add.
 * For a sampling profile of the whole run: `node --cpu-prof --import tsx bench/run.ts --only agentbus`
 * then `npx tsx bench/cpuprofile.ts <file>.cpuprofile`.
 */
import type { Queue } from "bullmq";
import { buildEnvelope } from "../runtime/envelope/build.ts";
import { checkStructure } from "../runtime/envelope/guards.ts";
import { isMessageId, messageId } from "../runtime/envelope/ids.ts";
import { renderTimestamp } from "../runtime/envelope/clock.ts";
import { crossFieldIssues, routeIssues } from "../runtime/envelope/validate.ts";
import type { Envelope } from "../runtime/envelope/types.ts";
import { ENVELOPE_SCHEMA_ID } from "../runtime/schemas/registry.ts";
import { HOP_AGENTS, type Agentbus } from "./agentbus.ts";
import type { RawBullMQ } from "./raw.ts";
import { NO_CPU_PROBES, chains, makeEnvelopes } from "./scenarios.ts";
import { median } from "./stats.ts";

type Fn = (...args: never[]) => unknown;

/** µs per call of fn, after a warm-up; the median of 5 rounds. */
function cost(fn: () => unknown, iterations = 2000): number {
  for (let i = 0; i < iterations / 4; i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    rounds.push(((performance.now() - t0) * 1000) / iterations);
  }
  return median(rounds);
}

function replyEnvelope(ab: Agentbus): Envelope {
  const incoming = makeEnvelopes(1, "hop1_agent")[0] as Envelope;
  const { runtime } = ab;
  const agent = runtime.agents.get("hop1_agent");
  if (!agent) throw new Error("hop1_agent not loaded");
  return buildEnvelope(
    {
      sender: { name: agent.name, type: agent.spec.type, abbr: agent.abbr },
      input: { source: incoming.agent.name, content: incoming.output.content },
      output: { content_type: "user_request", content: incoming.output.content },
      next_agent: { name: "hop2_agent", reason: "hop 1 → hop2_agent" },
      metadata: { ...incoming.metadata, sequence_number: 2, parent_message_id: incoming.message_id },
      audit: { compliance_notes: ["validated"], governance_files_consulted: [agent.specPath, ...agent.governance.map((g) => g.path)], reasoning: "" },
    },
    { clock: runtime.clock, timezone: runtime.config.timezone },
  );
}

function microCosts(ab: Agentbus): Array<[string, number]> {
  const { registry, agents, clock, config } = ab.runtime;
  const env = replyEnvelope(ab);
  const tz = config.timezone;
  const contentId = registry.contentSchemaId("user_request") ?? "";
  const log = ab.runtime.logger;
  const agent = agents.get("hop1_agent");
  const draft = (): Envelope =>
    buildEnvelope(
      {
        sender: { name: "hop1_agent", type: "operational", abbr: agent?.abbr ?? "hop1" },
        input: { source: "user", content: env.input.content },
        output: { content_type: "user_request", content: env.output.content },
        next_agent: { name: "hop2_agent", reason: "r" },
        metadata: env.metadata,
        audit: { ...env.audit, compliance_notes: [env.audit.compliance_notes] },
        message_id: env.message_id,
      },
      { clock, timezone: tz },
    );
  return [
    ["bus.validate (all layers below)", cost(() => ab.bus.validate(env))],
    ["  structural guards (checkStructure)", cost(() => checkStructure(env, { maxBytes: config.maxEnvelopeBytes }))],
    ["  envelope JSON Schema (Ajv, incl. formats)", cost(() => registry.check(ENVELOPE_SCHEMA_ID, env))],
    ["  content schema (Ajv, user_request)", cost(() => registry.check(contentId, env.output.content))],
    ["  cross-field rules (timestamp offset, ids)", cost(() => crossFieldIssues(env))],
    ["    of which isMessageId ×2 (id and parent id)", cost(() => [isMessageId(env.message_id), isMessageId(env.metadata.parent_message_id ?? "")])],
    ["  route rules (accepts/emits)", cost(() => routeIssues(env, agents))],
    ["buildEnvelope (reply, id given)", cost(draft)],
    ["  renderTimestamp (luxon)", cost(() => renderTimestamp(clock.now(), tz))],
    ["messageId (luxon + random suffix)", cost(() => messageId("hop1", clock.now(), tz))],
    ["logger.child per message (pino)", cost(() => log.child({ session_id: env.metadata.session_id, message_id: env.message_id }))],
    ["JSON.stringify(envelope) (BullMQ add does this)", cost(() => JSON.stringify(env))],
    ["bus.validate again (after the others)", cost(() => ab.bus.validate(env))],
  ];
}

/** Wall-time accumulator per stage. */
class Stages {
  readonly ms = new Map<string, { total: number; calls: number }>();
  add(name: string, ms: number): void {
    const s = this.ms.get(name) ?? { total: 0, calls: 0 };
    s.total += ms;
    s.calls += 1;
    this.ms.set(name, s);
  }
  wrapAsync<F extends Fn>(name: string, fn: F): F {
    return (async (...args: Parameters<F>) => {
      const t0 = performance.now();
      try {
        const result: unknown = await fn(...args);
        return result;
      } finally {
        this.add(name, performance.now() - t0);
      }
    }) as unknown as F;
  }
  wrapSync<F extends Fn>(name: string, fn: F): F {
    return ((...args: Parameters<F>) => {
      const t0 = performance.now();
      try {
        return fn(...args);
      } finally {
        this.add(name, performance.now() - t0);
      }
    }) as unknown as F;
  }
}

function wrapQueueAdd(stages: Stages, name: string, q: Queue): () => void {
  const original = q.add.bind(q);
  q.add = stages.wrapAsync(name, original);
  return () => {
    q.add = original;
  };
}

async function stageTimes(ab: Agentbus, raw: RawBullMQ | null, concurrency: number, count: number): Promise<string[]> {
  const stages = new Stages();
  const { bus } = ab;
  const originals = { validate: bus.validate.bind(bus), claim: bus.claims.claim.bind(bus.claims), enqueue: bus.enqueue.bind(bus) };
  bus.validate = stages.wrapSync("bus.validate (receive + reply)", originals.validate);
  bus.claims.claim = stages.wrapAsync("sequence claim (1 Redis round trip)", originals.claim);
  bus.enqueue = stages.wrapAsync("bus.enqueue → Queue.add", originals.enqueue);
  const restore = HOP_AGENTS.map((n) => wrapQueueAdd(stages, "  of which Queue.add", bus.queue(n)));
  ab.hostHook = (host) => {
    host.process = stages.wrapAsync("AgentHost.process (whole delivery)", host.process.bind(host));
  };
  // startAgents copies the loaded agent (to set the concurrency), so wrap the handler before it does.
  const handlers = HOP_AGENTS.map((n) => {
    const agent = ab.runtime.agents.get(n);
    if (!agent) throw new Error(`${n} not loaded`);
    const original = agent.handler;
    agent.handler = stages.wrapAsync("handler", original);
    return () => {
      agent.handler = original;
    };
  });
  const abRun = await chains(ab.chain, makeEnvelopes(count, HOP_AGENTS[0] as string), concurrency, 1, NO_CPU_PROBES);
  ab.hostHook = null;
  for (const r of handlers) r();
  bus.validate = originals.validate;
  bus.claims.claim = originals.claim;
  bus.enqueue = originals.enqueue;
  for (const r of restore) r();

  const perHop = (name: string): number => {
    const s = stages.ms.get(name);
    return s ? (s.total * 1000) / (count * 4) : 0;
  };
  const lines = [`agentbus, ${count} chains one at a time; µs per delivery (4 per chain; 3 replies to agents + 1 to COMPLETE):`];
  for (const name of stages.ms.keys()) lines.push(`  ${perHop(name).toFixed(1).padStart(8)} µs  ${name}`);
  const p50 = median(abRun.samples.hops) * 1000;
  lines.push(`  hop latency p50 ${p50.toFixed(0)} µs`);

  if (raw) {
    const rawStages = new Stages();
    const rawRestore = raw.hopQueues().map((q) => wrapQueueAdd(rawStages, "Queue.add", q));
    const rawRun = await chains(raw.chain, makeEnvelopes(count, HOP_AGENTS[0] as string), concurrency, 1, NO_CPU_PROBES);
    for (const r of rawRestore) r();
    const add = rawStages.ms.get("Queue.add");
    lines.push(
      `raw BullMQ, same: Queue.add ${add ? ((add.total * 1000) / add.calls).toFixed(1) : "?"} µs per add, hop latency p50 ${(median(rawRun.samples.hops) * 1000).toFixed(0)} µs`,
    );
  }
  return lines;
}

export async function profileHopPath(ab: Agentbus, raw: RawBullMQ | null, concurrency: number, count: number): Promise<string> {
  const lines = ["profile: CPU cost per call of what agentbus adds (µs, median of 5 rounds):"];
  for (const [name, us] of microCosts(ab)) lines.push(`  ${us.toFixed(1).padStart(8)} µs  ${name}`);
  lines.push("", ...(await stageTimes(ab, raw, concurrency, count)));
  return lines.join("\n");
}
