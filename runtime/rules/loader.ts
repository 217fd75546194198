/**
 * Reads the approved rules from the memory root and hands each agent the ones that target it.
 *
 * A file is applied only when it parses, passes the memory-rule schema, sits where the writer puts
 * it (<target_agent>/<rule_id>.md) and its text still hashes to its content_hash; optionally the
 * file's sha256 must also be the one the approval recorded (`approvedFiles`), which catches an edit
 * that recomputed the hash. Anything else is reported (logger, `status()`) and not applied.
 *
 * Changes are picked up without a restart: fs.watch triggers a rescan, and a periodic rescan (every
 * `rescanMs`) covers what watching misses (other machines on a shared folder, editors that replace
 * folders), so every process converges within seconds.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ApprovedRule } from "../agents/handler.ts";
import type { JsonObject } from "../envelope/types.ts";
import { MEMORY_RULE_SCHEMA_ID, schemaRegistry, type SchemaRegistry } from "../schemas/registry.ts";
import { sha256Hex } from "../store/canonical.ts";
import type { Logger } from "../store/db.ts";
import type { MemoryRule } from "../schemas/generated/memory_rule.ts";
import { contentHash, isTargetAgent, RULE_ID_PATTERN } from "./content.ts";
import { parseRuleFile } from "./file-format.ts";

export type RuleFileState = "applied" | "hand_edited" | "invalid" | "misplaced" | "unapproved";

export interface RuleFileStatus {
  /** Repo-relative path, e.g. context/memory/dispatch_agent/rule_20261121_01.md */
  path: string;
  rule_id: string | null;
  target_agent: string | null;
  version: number | null;
  state: RuleFileState;
  message: string;
  sha256: string;
}

export interface RulesLoaderOptions {
  root: string;
  /** Prefix of the paths agents list in governance_files_consulted. */
  pathPrefix?: string;
  registry?: SchemaRegistry;
  logger?: Logger;
  rescanMs?: number;
  /** sha256 of each approved file as the approval recorded it, keyed by <agent>/<rule_id>.md. */
  approvedFiles?: () => Promise<ReadonlyMap<string, string>>;
}

export class RulesLoader {
  private readonly root: string;
  private readonly prefix: string;
  private readonly registry: SchemaRegistry;
  private readonly logger: Logger | undefined;
  private readonly rescanMs: number;
  private readonly approvedFiles: RulesLoaderOptions["approvedFiles"];
  private byAgent = new Map<string, ApprovedRule[]>();
  private statuses: RuleFileStatus[] = [];
  private reported = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private generation = 0;

  constructor(options: RulesLoaderOptions) {
    this.root = resolve(options.root);
    this.prefix = options.pathPrefix ?? "context/memory";
    this.registry = options.registry ?? schemaRegistry();
    this.logger = options.logger;
    this.rescanMs = options.rescanMs ?? 2000;
    this.approvedFiles = options.approvedFiles;
  }

  /** Loads once, then keeps watching until close(). */
  async start(): Promise<this> {
    await this.refresh();
    this.watchRoot();
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.logger?.warn({ err }, "rules rescan failed")), this.rescanMs);
    this.timer.unref();
    return this;
  }

  /** The approved rules targeting `agent`, as last read. Bound, so it can be passed as Runtime's `rules`. */
  readonly rulesFor = (agent: string): readonly ApprovedRule[] => this.byAgent.get(agent) ?? [];

  status(): readonly RuleFileStatus[] {
    return this.statuses;
  }

  /** How many scans have completed (tests wait on it). */
  get scans(): number {
    return this.generation;
  }

  /** Rescans now; concurrent calls share one scan (and ask for one more if a change came during it). */
  refresh(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.again = false;
          await this.scan();
        } while (this.again);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private watchRoot(): void {
    try {
      this.watcher = watch(this.root, { recursive: true, persistent: false }, () => void this.refresh().catch(() => undefined));
      this.watcher.on("error", () => {
        // The folder went away or cannot be watched: the periodic rescan carries on alone.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // root missing (fresh install): the rescan finds it once it exists
    }
  }

  private async scan(): Promise<void> {
    if (!this.watcher && this.timer) this.watchRoot();
    const approved = this.approvedFiles ? await this.approvedFiles() : undefined;
    const byAgent = new Map<string, ApprovedRule[]>();
    const statuses: RuleFileStatus[] = [];
    for (const agent of await listDir(this.root)) {
      const dir = join(this.root, agent);
      if (!(await stat(dir).catch(() => null))?.isDirectory()) continue;
      for (const name of (await listDir(dir)).filter((n) => n.endsWith(".md")).sort()) {
        const rel = `${agent}/${name}`;
        const text = await readFile(join(dir, name), "utf8").catch(() => null);
        if (text === null) continue; // removed while scanning
        const s = this.check(rel, agent, name, text, approved);
        statuses.push(s.status);
        if (s.rule) byAgent.set(agent, [...(byAgent.get(agent) ?? []), s.rule]);
      }
    }
    for (const s of statuses) {
      const key = `${s.path}:${s.sha256}:${s.state}`;
      if (s.state !== "applied" && !this.reported.has(key)) {
        this.reported.add(key);
        this.logger?.warn({ path: s.path, state: s.state, reason: s.message }, `rule file ${s.path} is not applied: ${s.message}`);
      }
    }
    this.byAgent = byAgent;
    this.statuses = statuses;
    this.generation++;
  }

  private check(rel: string, agent: string, name: string, text: string, approved: ReadonlyMap<string, string> | undefined): { status: RuleFileStatus; rule?: ApprovedRule } {
    const sha256 = sha256Hex(text);
    const base = { path: `${this.prefix}/${rel}`, rule_id: null, target_agent: null, version: null, sha256 };
    let value: Record<string, unknown>;
    try {
      value = parseRuleFile(text).value;
    } catch (err) {
      return { status: { ...base, state: "invalid", message: `cannot be read as a rule file: ${(err as Error).message}` } };
    }
    const issues = this.registry.check(MEMORY_RULE_SCHEMA_ID, value);
    if (issues.length > 0) {
      return { status: { ...base, state: "invalid", message: `does not match the memory-rule schema: ${issues.slice(0, 3).map((i) => `${i.pointer || "/"} ${i.message}`).join("; ")}` } };
    }
    // The memory-rule schema just passed: this is its type.
    const rule = value as unknown as MemoryRule;
    const ids = { rule_id: rule.rule_id, target_agent: rule.target_agent, version: rule.version };
    if (!isTargetAgent(agent) || agent !== rule.target_agent || name !== `${rule.rule_id}.md` || !RULE_ID_PATTERN.test(rule.rule_id)) {
      return { status: { ...base, ...ids, state: "misplaced", message: `a rule for ${rule.target_agent} named ${rule.rule_id} must be ${rule.target_agent}/${rule.rule_id}.md` } };
    }
    if (contentHash(rule) !== rule.content_hash) {
      return { status: { ...base, ...ids, state: "hand_edited", message: "its text or effect no longer matches the content hash that was approved (edited by hand?)" } };
    }
    if (approved && approved.get(rel) !== sha256) {
      const known = approved.get(rel);
      return { status: { ...base, ...ids, state: known ? "hand_edited" : "unapproved", message: known ? "the file differs from the one the approval wrote" : "no approval in the review log wrote this file" } };
    }
    const applied: ApprovedRule = {
      rule_id: rule.rule_id,
      target_agent: rule.target_agent,
      trigger_condition: rule.trigger_condition,
      instruction: rule.instruction,
      // An effect is a JSON object of the schema's effect vocabulary; ApprovedRule keeps it untyped.
      ...(rule.effect ? { effect: rule.effect as unknown as JsonObject } : {}),
      path: base.path,
      version: rule.version,
      rollout_percent: rule.rollout_percent ?? 100,
      content_hash: rule.content_hash,
    };
    return { status: { ...base, ...ids, state: "applied", message: "applied" }, rule: applied };
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}
