/**
 * The HTTP API on Express: a thin adapter over RequestService. Every /api route needs the API token
 * (Authorization: Bearer <token>); bodies are validated with a clear 400 naming each problem.
 */
import { timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { AgentbusError } from "../errors/index.ts";
import { describeUnsafeChar, firstUnsafeChar } from "../envelope/text.ts";
import { silentLogger } from "../log/logger.ts";
import { BODY_LIMIT_BYTES, errorHandler, RETRY_AFTER_S } from "./errors.ts";
import { checkIdempotencyKey } from "./idempotency.ts";
import type { RequestService } from "./request-service.ts";

export interface HttpAppOptions {
  token: string;
  /** How long an idle SSE stream waits between keep-alive comments. */
  heartbeatMs?: number;
  /** Where 5xx answers are logged with their cause (the runtime's logger). */
  logger?: Logger;
  /** The runtime's health for /healthz: 503 while Postgres, Redis or the audit log is in trouble. */
  health?: () => { ok: boolean };
  /** Components' routes, served under /api behind the token. */
  routes?: express.Router[];
  /**
   * Components' own mounts (the review UI, /api/rules, /admin/queues), made before the API token
   * check and its 404: they bring their own login.
   */
  mounts?: Array<(app: express.Express) => void>;
}

export function createHttpApp(service: RequestService, options: HttpAppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // No token: load balancers and orchestrators probe it. It names components, never data.
  app.get("/healthz", (_req, res) => {
    const health = options.health?.() ?? { ok: true };
    if (!health.ok) res.set("Retry-After", String(RETRY_AFTER_S));
    res.status(health.ok ? 200 : 503).json(health);
  });
  for (const mount of options.mounts ?? []) mount(app);
  app.use("/api", requireToken(options.token), express.json({ limit: BODY_LIMIT_BYTES }));
  // A session id with a NUL (%00) or a lone surrogate cannot name a session, and Postgres would
  // refuse the query: say so instead of failing the lookup.
  app.param("id", (_req, _res, next, id: string) => {
    const found = firstUnsafeChar(id);
    if (!found) return next();
    next(new AgentbusError("BAD_REQUEST", `the session id ${describeUnsafeChar(found)}`));
  });

  app.post("/api/requests", (req, res, next) => {
    const key = req.get("Idempotency-Key");
    Promise.resolve()
      .then(() => service.submit(req.body, "api", key === undefined ? {} : { idempotencyKey: checkIdempotencyKey(key) }))
      .then((s) => {
        if (s.replayed) res.set("Idempotent-Replayed", "true");
        res.status(202).location(`/api/sessions/${s.session_id}`).json({ ...s, links: { session: `/api/sessions/${s.session_id}`, events: `/api/sessions/${s.session_id}/events` } });
      })
      .catch(next);
  });

  app.get("/api/sessions/:id", (req, res, next) => {
    service.session(req.params.id).then((view) => void res.json(view), next);
  });

  app.get("/api/sessions/:id/events", (req, res, next) => {
    const id = req.params.id;
    // Refuse unknown sessions with a plain 404 before switching to an event stream.
    service
      .session(id)
      .then(() => streamEvents(service, id, req, res, options.heartbeatMs ?? 15_000))
      .catch(next);
  });

  for (const router of options.routes ?? []) app.use("/api", router);
  app.use("/api", (_req, res) => void res.status(404).json({ error: { code: "NOT_FOUND", message: "no such API route" } }));
  app.use(errorHandler(options.logger ?? silentLogger()));
  return app;
}

async function streamEvents(service: RequestService, id: string, req: Request, res: Response, heartbeatMs: number): Promise<void> {
  res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
  res.flushHeaders();
  const abort = new AbortController();
  req.on("close", () => abort.abort());
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
  try {
    for await (const hop of service.follow(id, { signal: abort.signal })) {
      res.write(`id: ${hop.id}\nevent: hop\ndata: ${JSON.stringify(hop)}\n\n`);
    }
    if (!abort.signal.aborted) {
      const view = await service.session(id);
      res.write(`event: end\ndata: ${JSON.stringify({ status: view.status, answer: view.answer, error: view.error })}\n\n`);
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}

function requireToken(token: string) {
  const expected = Buffer.from(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get("authorization") ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.set("WWW-Authenticate", 'Bearer realm="agentbus"').status(401).json({ error: { code: "UNAUTHORIZED", message: "send the API token as `Authorization: Bearer <token>`" } });
  };
}
