/**
 * A pipeline wired for rules as `agentbus start` wires it: the real agents, the rules component
 * (RulesLoader watching a temporary memory folder, each file checked against the approval that wrote
 * it), and optionally the review UI and the HTTP API on a free port. Decisions go through a
 * ReviewService on the runtime's own store and audit log, so its MemoryWriter writes the files the
 * loader reads.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { httpComponent, type HttpComponent } from "../../runtime/http/component.ts";
import { reviewComponent } from "../../runtime/review/component.ts";
import { reviewService } from "../../runtime/review/mount.ts";
import type { ReviewService } from "../../runtime/review/service.ts";
import { rulesComponent, type RulesComponent } from "../../runtime/rules/component.ts";
import type { RulesLoader } from "../../runtime/rules/loader.ts";
import type { Db } from "../../runtime/store/db.ts";
import type { ApprovedRule } from "../../runtime/agents/handler.ts";
import { recordingLogger } from "./pg.ts";
import { openPipeline, type Pipeline } from "./pipeline.ts";

export const API_TOKEN = "live-rules-token-0123456789";

export interface LivePipeline extends Pipeline {
  /** The memory folder the writer writes and the loader watches. */
  memory: string;
  loader: RulesLoader;
  /** What the loader logged (hand-edited and unapproved files are reported at warn). */
  loaderLog: ReturnType<typeof recordingLogger>;
  review: ReviewService;
  db: Db;
  /** The HTTP API's base URL (with `http: true`). */
  url: string | undefined;
  /** Waits until `pred` holds for the rules the loader hands `agent`; returns the ms it took. */
  untilRules(agent: string, pred: (rules: readonly ApprovedRule[]) => boolean, timeoutMs?: number): Promise<number>;
}

export async function openLivePipeline(name: string, options: { http?: boolean } = {}): Promise<LivePipeline> {
  const memory = await mkdtemp(join(tmpdir(), `agentbus-memory-${name}-`));
  const loaderLog = recordingLogger();
  let rules: RulesComponent | undefined;
  let http: HttpComponent | undefined;
  let p: Pipeline;
  try {
    p = await openPipeline(name, {
      config: { memoryDir: memory },
      rules: (agent) => rules?.loader.rulesFor(agent) ?? [],
      components: (config) => {
        rules = rulesComponent(config, loaderLog);
        if (!options.http) return [rules];
        http = httpComponent({ token: API_TOKEN, port: 0 });
        return [rules, reviewComponent({ apiToken: API_TOKEN, loader: rules.loader }), http];
      },
    });
  } catch (err) {
    await rm(memory, { recursive: true, force: true });
    throw err;
  }
  const store = p.runtime.store;
  if (!store || !rules) throw new Error("the live pipeline needs the store and the rules component");
  const loader = rules.loader;
  return {
    ...p,
    memory,
    loader,
    loaderLog,
    review: reviewService(p.runtime.config, store.db, store.audit, systemClock),
    db: store.db,
    url: http?.url,
    async untilRules(agent, pred, timeoutMs = 10_000) {
      const start = Date.now();
      while (!pred(loader.rulesFor(agent))) {
        if (Date.now() - start > timeoutMs) throw new Error(`the loader's rules for ${agent} did not change as expected within ${timeoutMs} ms: ${JSON.stringify(loader.status())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return Date.now() - start;
    },
    async close() {
      await p.close();
      await rm(memory, { recursive: true, force: true });
    },
  };
}
