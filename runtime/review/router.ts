/**
 * The thin Express adapter over ReviewService: the review UI at /review (server-rendered HTML, one
 * static script for shortcuts), the JSON API at /api/rules, and the queue dashboard at /admin/queues,
 * all behind the administrator login. Mount the returned router at the app's root, before any
 * catch-all for /api.
 */
import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import helmet from "helmet";
import { AgentbusError } from "../errors/index.ts";
import { getTrace } from "../store/sessions.ts";
import type { ProposalState } from "../store/proposals.ts";
import { SESSION_TTL_MS } from "./auth.ts";
import { apiRouter, statusOf } from "./api.ts";
import { ruleFigures, type ReviewRouterOptions } from "./context.ts";
import { cookieName, loadSession, loginCookieName, loginLimiters, newLoginToken, readCookie, requireCsrf, setCookie, type CookieConfig } from "./http-auth.ts";
import type { Actor, EditableFields } from "./types.ts";
import { bulkConfirmPage, listPage } from "./views/list.ts";
import { errorPage, filesPage, loginPage, tracePage } from "./views/misc.ts";
import { rulePage } from "./views/rule.ts";
import { textOf, type PageUser } from "./views/layout.ts";

export type { ReviewRouterOptions } from "./context.ts";

const STATIC = fileURLToPath(new URL("./static/", import.meta.url));
const STATES = new Set(["pending", "approved", "rejected", "retired"]);

export function createReviewRouter(o: ReviewRouterOptions): Router {
  const c: CookieConfig = { insecureLoopback: o.insecureLoopbackCookies === true };
  const router = express.Router();
  const strict = helmet({
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", "data:"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"], objectSrc: ["'none'"], upgradeInsecureRequests: c.insecureLoopback ? null : [] } },
    strictTransportSecurity: !c.insecureLoopback,
    referrerPolicy: { policy: "no-referrer" },
  });
  const limiters = loginLimiters(o.loginLimits ?? {}, (req, res) => {
    res.status(429);
    if (req.path.startsWith("/api")) return void res.json({ error: { code: "RATE_LIMITED", message: "too many login attempts; wait and try again" } });
    res.type("html").send(loginPage(newLoginToken(), "Too many login attempts. Wait a few minutes and try again.", false));
  });
  const sessions = loadSession(o.accounts, c);
  // bull-board's page boots with inline script and styles: allowed there only, behind the login.
  const dashboardHeaders = helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'", "'unsafe-inline'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", "data:"], frameAncestors: ["'none'"], upgradeInsecureRequests: c.insecureLoopback ? null : [] } }, strictTransportSecurity: !c.insecureLoopback });
  router.use(["/review", "/api/rules"], strict);
  router.use("/admin/queues", dashboardHeaders);
  router.use(["/review", "/api/rules", "/admin/queues"], sessions, (_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  });
  router.use("/review/static", express.static(STATIC, { index: false, fallthrough: false }));
  router.use("/api/rules", apiRouter(o, c, limiters));
  router.use("/review", express.urlencoded({ extended: false, limit: "256kb" }));

  router.get("/review/login", (req, res, next) => {
    if (req.review) return void res.redirect(303, "/review");
    const token = newLoginToken();
    setCookie(res, c, loginCookieName(c), token, 30 * 60 * 1000);
    o.accounts.count().then((n) => void res.type("html").send(loginPage(token, null, n === 0)), next);
  });
  router.post("/review/login", ...limiters, (req, res, next) => {
    const body = req.body as Record<string, unknown>;
    const expected = readCookie(req, loginCookieName(c));
    const fail = (status: number, msg: string): void => {
      const token = newLoginToken();
      setCookie(res, c, loginCookieName(c), token, 30 * 60 * 1000);
      res.status(status).type("html").send(loginPage(token, msg, false));
    };
    if (!expected || body._login !== expected) return fail(403, "The sign-in form expired. Please try again.");
    o.accounts
      .authenticate(textOf(body.name), textOf(body.password))
      .then(async (acct) => {
        if (!acct) return fail(401, "Wrong account name or password.");
        const s = await o.accounts.startSession(acct);
        setCookie(res, c, cookieName(c), s.id, SESSION_TTL_MS);
        res.clearCookie(loginCookieName(c), { path: "/" });
        res.redirect(303, "/review");
      })
      .catch(next);
  });

  // Everything below needs a session; state changes need its CSRF token too.
  router.use(["/review", "/admin/queues"], (req, res, next) => {
    if (req.review) return next();
    if (req.method === "GET") return void res.redirect(303, "/review/login");
    res.status(401).type("html").send(errorPage(null, 401, "Sign in first."));
  });
  router.use("/review", (req, res, next) => {
    if (req.method !== "POST" || requireCsrf(req)) return next();
    res.status(403).type("html").send(errorPage(user(req), 403, "This form is missing its security token (CSRF). Reload the page and try again."));
  });
  if (o.queueDashboard) router.use("/admin/queues", o.queueDashboard());

  router.post("/review/logout", (req, res, next) => {
    o.accounts.endSession(req.review?.sessionId).then(() => {
      res.clearCookie(cookieName(c), { path: "/" });
      res.redirect(303, "/review/login");
    }, next);
  });

  router.get("/review", (req, res, next) => {
    const q = req.query;
    const state = typeof q.state === "string" && (STATES.has(q.state) || q.state === "all") ? q.state : "pending";
    const target = typeof q.target === "string" ? q.target : "";
    Promise.all([o.service.list({ state: state === "all" ? undefined : (state as ProposalState), target_agent: target || undefined }), o.service.list({ limit: 1 })])
      .then(([rules, all]) => void res.type("html").send(listPage({ rules, state, target, user: user(req), totalRules: all.length, notice: typeof q.notice === "string" ? q.notice : undefined })))
      .catch(next);
  });

  router.get("/review/rules/:id", (req, res, next) => {
    renderRule(req, res, String(req.params.id), typeof req.query.notice === "string" ? req.query.notice : undefined).catch(next);
  });

  async function renderRule(req: Request, res: Response, id: string, notice?: string, error?: string, status = 200): Promise<void> {
    const rule = await o.service.get(id);
    const pending = await o.service.list({ state: "pending" });
    const next = pending.find((p) => p.rule_id !== id && pending.findIndex((x) => x.rule_id === id) < pending.indexOf(p))?.rule_id ?? pending.find((p) => p.rule_id !== id)?.rule_id ?? null;
    const file = o.loader?.status().find((f) => f.rule_id === id);
    res.status(status).type("html").send(rulePage({ rule, user: user(req), ...(await ruleFigures(o, rule)), next, notice, error, fileState: file?.state }));
  }

  const act = (fn: (actor: Actor, id: string, b: Record<string, string>) => Promise<unknown>, done: string) => (req: Request, res: Response, next: NextFunction) => {
    const id = String(req.params.id);
    fn(actorOf(req), id, req.body as Record<string, string>)
      .then(() => void res.redirect(303, `/review/rules/${encodeURIComponent(id)}?notice=${encodeURIComponent(done)}`))
      .catch((err: unknown) => {
        if (!(err instanceof AgentbusError) || err.code === "NOT_FOUND" || statusOf(err.code) >= 500) return next(err);
        renderRule(req, res, id, undefined, err.message, statusOf(err.code)).catch(next);
      });
  };
  router.post("/review/rules/:id/approve", act((a, id, b) => o.service.approve(a, id, { content_hash: b.content_hash ?? "", rollout_percent: Number(b.rollout_percent || 100) }), "Approved: the rule file is written and applies within seconds."));
  router.post("/review/rules/:id/reject", act((a, id, b) => o.service.reject(a, id, { reason: b.reason ?? "" }), "Rejected."));
  router.post("/review/rules/:id/retire", act((a, id, b) => o.service.retire(a, id, { reason: b.reason ?? "" }), "Retired: the file is removed and agents stop applying it."));
  router.post("/review/rules/:id/promote", act((a, id, b) => o.service.promote(a, id, { rollout_percent: Number(b.rollout_percent || 100) }), "Promoted to all sessions."));
  router.post("/review/rules/:id/rollback", act((a, id, b) => o.service.rollback(a, id, { to_version: Number(b.to_version), reason: b.reason ?? "" }), "Rolled back."));
  router.post("/review/rules/:id/edit", act((a, id, b) => o.service.edit(a, id, { fields: editFields(b), based_on_hash: b.based_on_hash ?? "", approve: b.then === "approve" }), "Saved as a new version."));

  router.post("/review/bulk", (req, res, next) => {
    const b = req.body as Record<string, unknown>;
    const action = b.action === "reject" ? "reject" : "approve";
    const chosen = ([] as unknown[]).concat(b.rule_id ?? []).map(String);
    const back = `/review?state=${encodeURIComponent(textOf(b.state ?? "pending"))}&target=${encodeURIComponent(textOf(b.target))}`;
    const pick = chosen.length
      ? Promise.resolve(chosen)
      : o.service.list({ state: "pending", target_agent: typeof b.target === "string" && b.target ? b.target : undefined }).then((l) => l.map((r) => r.rule_id));
    pick.then((ids) => {
      if (ids.length === 0) return void res.redirect(303, `${back}&notice=${encodeURIComponent("Nothing selected.")}`);
      res.type("html").send(bulkConfirmPage(user(req), action, ids, back));
    }, next);
  });
  router.post("/review/bulk/confirm", (req, res, next) => {
    const b = req.body as Record<string, unknown>;
    const ids = ([] as unknown[]).concat(b.rule_id ?? []).map(String).slice(0, 1000);
    const actor = actorOf(req);
    (async () => {
      let done = 0;
      const failed: string[] = [];
      for (const id of ids) {
        try {
          if (b.action === "reject") await o.service.reject(actor, id, { reason: textOf(b.reason) });
          else await o.service.approve(actor, id, { content_hash: (await o.service.get(id)).reviewable_hash });
          done++;
        } catch (err) {
          failed.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const verb = b.action === "reject" ? "Rejected" : "Approved";
      res.redirect(303, `/review?state=pending&notice=${encodeURIComponent(`${verb} ${done} of ${ids.length} rule(s).${failed.length ? ` Not done: ${failed.join("; ")}` : ""}`)}`);
    })().catch(next);
  });

  router.get("/review/trace/:session", (req, res, next) => {
    const id = String(req.params.session);
    getTrace(o.db, id).then((entries) => void res.type("html").send(tracePage(user(req), id, entries)), next);
  });
  router.get("/review/files", (req, res) => void res.type("html").send(filesPage(user(req), o.loader?.status() ?? [])));

  router.use(["/review", "/admin/queues"], (req: Request, res: Response) => void res.status(404).type("html").send(errorPage(req.review ? user(req) : null, 404, "No such page.")));
  router.use(["/review", "/admin/queues"], (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof AgentbusError) || statusOf(err.code) >= 500) return next(err);
    res.status(statusOf(err.code)).type("html").send(errorPage(req.review ? user(req) : null, statusOf(err.code), err.message));
  });
  return router;
}

function user(req: Request): PageUser {
  const s = req.review!.session;
  return { name: s.account.name, role: s.account.role, csrf: s.csrf };
}

function actorOf(req: Request): Actor {
  const s = req.review!.session;
  return { name: s.account.name, role: s.account.role };
}

function editFields(b: Record<string, string>): Partial<EditableFields> {
  const f: Partial<EditableFields> = {};
  // Browsers send textarea line breaks as CRLF; the stored text uses LF.
  const text = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.replace(/\r\n/g, "\n"));
  for (const k of ["trigger_condition", "instruction", "rationale"] as const) {
    const v = text(b[k]);
    if (v !== undefined) f[k] = v;
  }
  if (b.effect !== undefined) {
    const raw = b.effect.trim();
    try {
      f.effect = raw === "" ? undefined : (JSON.parse(raw) as EditableFields["effect"]);
    } catch {
      throw new AgentbusError("BAD_REQUEST", "the effect is not valid JSON");
    }
  }
  return f;
}
