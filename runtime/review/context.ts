/** What the review router needs, and the figures a rule page shows (shared by the UI and the JSON API). */
import type { RulesLoader } from "../rules/loader.ts";
import type { Db } from "../store/db.ts";
import type { AccountStore } from "./auth.ts";
import type { LoginLimits } from "./http-auth.ts";
import { compareRollout, estimateEffect, impact } from "./impact.ts";
import type { ReviewService } from "./service.ts";
import type { RuleDetail } from "./types.ts";

export interface ReviewRouterOptions {
  service: ReviewService;
  accounts: AccountStore;
  db: Db;
  /** The loader of this process, for the rule files' status. */
  loader?: RulesLoader;
  /** The HTTP API's bearer token: accepted read-only on GET /api/rules (scripts). */
  apiToken?: string;
  /** Plain-http cookies; only when the server listens on loopback (see README "Reviewing rules"). */
  insecureLoopbackCookies?: boolean;
  loginLimits?: LoginLimits;
  /** An express router serving the queue dashboard, mounted at /admin/queues behind the login. */
  queueDashboard?: () => import("express").Router;
}

export async function ruleFigures(o: ReviewRouterOptions, r: RuleDetail) {
  const active = r.versions.find((v) => v.version === r.active_version);
  const estimate = await estimateEffect(o.db, r.reviewable.effect);
  const since = r.state === "approved" && active?.approved_at ? active.approved_at : null;
  return {
    estimate,
    impact: since ? await impact(o.db, active?.content.effect, since) : null,
    rollout: since && r.rollout_percent < 100 ? await compareRollout(o.db, r.rule_id, active?.content.effect, since) : null,
  };
}
