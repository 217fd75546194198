/** Cookie sessions, CSRF and login rate limits for the review router. */
import { randomBytes } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { rateLimit, type Store } from "express-rate-limit";
import type { AccountStore, AdminSession } from "./auth.ts";
import { csrfMatches } from "./auth.ts";

export interface CookieConfig {
  /** Plain-http cookies (no Secure flag): only for a server bound to loopback, which says so. */
  insecureLoopback: boolean;
}

export function cookieName(c: CookieConfig): string {
  // __Host- pins the cookie to this host, path / and Secure; not possible without TLS.
  return c.insecureLoopback ? "agentbus_review" : "__Host-agentbus_review";
}

export function loginCookieName(c: CookieConfig): string {
  return c.insecureLoopback ? "agentbus_login" : "__Host-agentbus_login";
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function setCookie(res: Response, c: CookieConfig, name: string, value: string, maxAgeMs: number): void {
  res.cookie(name, value, { httpOnly: true, sameSite: "strict", secure: !c.insecureLoopback, path: "/", maxAge: maxAgeMs });
}

export interface Authed {
  session: AdminSession;
  sessionId: string;
}

declare module "express-serve-static-core" {
  interface Request {
    review?: Authed;
  }
}

/** Loads the session named by the cookie (if any) onto req.review. */
export function loadSession(accounts: AccountStore, c: CookieConfig) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const id = readCookie(req, cookieName(c));
    accounts.session(id).then((s) => {
      if (s && id) req.review = { session: s, sessionId: id };
      next();
    }, next);
  };
}

/** Every state change needs the session's CSRF token (form field _csrf or header X-CSRF-Token). */
export function requireCsrf(req: Request): boolean {
  const expected = req.review?.session.csrf;
  if (!expected) return false;
  const given = req.get("x-csrf-token") ?? (req.body as Record<string, unknown> | undefined)?._csrf;
  return csrfMatches(given, expected);
}

export function newLoginToken(): string {
  return randomBytes(24).toString("base64url");
}

export interface LoginLimits {
  windowMs?: number;
  perIp?: number;
  perAccount?: number;
  /**
   * Where the counts are kept, per limiter. Default: this process's memory, so each `start`
   * process would count on its own; `agentbus start` keeps them in Redis, shared by all.
   */
  store?: (limiter: "ip" | "account") => Store;
}

/** Two limiters on POST login: per client address and per account name tried. */
export function loginLimiters(l: LoginLimits, onLimit: (req: Request, res: Response) => void) {
  const windowMs = l.windowMs ?? 15 * 60 * 1000;
  // A count that cannot be kept (Redis away) lets the login through rather than locking every
  // reviewer out; passwords are still checked (scrypt) and the limiter logs the store's error.
  const common = { windowMs, standardHeaders: "draft-8" as const, legacyHeaders: false, handler: onLimit, passOnStoreError: true };
  return [
    rateLimit({ ...common, limit: l.perIp ?? 20, ...(l.store ? { store: l.store("ip") } : {}) }),
    rateLimit({
      ...common,
      ...(l.store ? { store: l.store("account") } : {}),
      limit: l.perAccount ?? 5,
      keyGenerator: (req: Request) => {
        const name = (req.body as Record<string, unknown> | undefined)?.name;
        return `acct:${typeof name === "string" ? name.toLowerCase().slice(0, 64) : ""}`;
      },
      // Only failed attempts count against an account, so its owner is not locked out by their own use.
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req: Request, res: Response) => res.statusCode < 400,
    }),
  ];
}
