/**
 * JSON under /api/rules: the same decisions as the UI, through the same ReviewService.
 * Reads: a review session cookie, or the HTTP API's bearer token (read-only, for scripts).
 * Decisions: a review session (POST /api/rules/session with name and password gives the cookie and
 * the CSRF token) plus the X-CSRF-Token header. The bearer token never decides: it names no person.
 */
import { timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { AgentbusError } from "../errors/index.ts";
import { httpStatusOf } from "../errors/codes.ts";
import type { ProposalState } from "../store/proposals.ts";
import { SESSION_TTL_MS } from "./auth.ts";
import { cookieName, requireCsrf, setCookie, type CookieConfig } from "./http-auth.ts";
import { ruleFigures, type ReviewRouterOptions } from "./context.ts";
import type { Actor, DecisionResult } from "./types.ts";

const STATES = new Set(["pending", "approved", "rejected", "retired"]);

export function apiRouter(o: ReviewRouterOptions, c: CookieConfig, limiters: express.RequestHandler[]): Router {
  const r = express.Router();
  r.use(express.json({ limit: "256kb" }));
  r.post("/session", ...limiters, (req, res, next) => {
    const { name, password } = (req.body ?? {}) as { name?: unknown; password?: unknown };
    if (typeof name !== "string" || typeof password !== "string") return void res.status(400).json({ error: { code: "BAD_REQUEST", message: "send {name, password}" } });
    o.accounts
      .authenticate(name, password)
      .then(async (acct) => {
        if (!acct) return void res.status(401).json({ error: { code: "UNAUTHORIZED", message: "wrong account or password" } });
        const s = await o.accounts.startSession(acct);
        setCookie(res, c, cookieName(c), s.id, SESSION_TTL_MS);
        res.json({ account: acct, csrf_token: s.session.csrf, expires_at: s.session.expires_at });
      })
      .catch(next);
  });
  r.use((req, res, next) => {
    if (req.review) return next();
    if (req.method === "GET" && o.apiToken && bearerOk(req, o.apiToken)) return next();
    res.set("WWW-Authenticate", 'Bearer realm="agentbus"').status(401).json({ error: { code: "UNAUTHORIZED", message: "log in (POST /api/rules/session) or send the API token (read-only)" } });
  });
  r.use((req, res, next) => {
    if (req.method === "GET" || requireCsrf(req)) return next();
    res.status(403).json({ error: { code: "CSRF_REFUSED", message: "state changes need the session's CSRF token in X-CSRF-Token" } });
  });
  r.get("/", (req, res, next) => {
    const state = typeof req.query.state === "string" && STATES.has(req.query.state) ? (req.query.state as ProposalState) : undefined;
    const target = typeof req.query.target_agent === "string" && req.query.target_agent ? req.query.target_agent : undefined;
    o.service.list({ state, target_agent: target }).then((rules) => void res.json({ rules }), next);
  });
  r.get("/files", (_req, res) => void res.json({ files: o.loader?.status() ?? [] }));
  r.get("/:id", (req, res, next) => {
    o.service
      .get(req.params.id)
      .then(async (rule) => void res.json({ rule, ...(await ruleFigures(o, rule)) }))
      .catch(next);
  });
  const decide = (fn: (actor: Actor, id: string, body: Record<string, unknown>) => Promise<DecisionResult>) => (req: Request, res: Response, next: NextFunction) => {
    const s = req.review!.session;
    fn({ name: s.account.name, role: s.account.role }, String(req.params.id), (req.body ?? {}) as Record<string, unknown>).then((d) => void res.status(d.replayed ? 200 : 201).json(d), next);
  };
  r.post("/:id/approve", decide((a, id, b) => o.service.approve(a, id, { content_hash: str(b.content_hash), ...(b.rollout_percent !== undefined ? { rollout_percent: Number(b.rollout_percent) } : {}) })));
  r.post("/:id/edit", decide((a, id, b) => o.service.edit(a, id, { fields: (b.fields ?? {}), based_on_hash: str(b.based_on_hash), approve: b.approve === true, ...(b.rollout_percent !== undefined ? { rollout_percent: Number(b.rollout_percent) } : {}) })));
  r.post("/:id/reject", decide((a, id, b) => o.service.reject(a, id, { reason: str(b.reason) })));
  r.post("/:id/retire", decide((a, id, b) => o.service.retire(a, id, { reason: str(b.reason) })));
  r.post("/:id/rollback", decide((a, id, b) => o.service.rollback(a, id, { to_version: Number(b.to_version), reason: str(b.reason) })));
  r.post("/:id/promote", decide((a, id, b) => o.service.promote(a, id, { rollout_percent: b.rollout_percent === undefined ? 100 : Number(b.rollout_percent) })));
  r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof AgentbusError)) return next(err);
    res.status(statusOf(err.code)).json({ error: err.toJSON() });
  });
  return r;
}

/** The one list of codes decides the status, as for the rest of the API. */
export function statusOf(code: string): number {
  return httpStatusOf(code);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function bearerOk(req: Request, token: string): boolean {
  const h = req.get("authorization") ?? "";
  const given = Buffer.from(h.startsWith("Bearer ") ? h.slice(7) : "");
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
