/**
 * Maps whatever a route or Express's body parser throws onto an HTTP answer that says what to fix,
 * and logs every 5xx with its cause: a 500 that only says "see the server log" must find it there.
 */
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { httpStatusOf, isAgentbusError } from "../errors/index.ts";

export const BODY_LIMIT_BYTES = 256 * 1024;

/** Seconds a client is asked to wait on a 503 (the outage paths retry on their own meanwhile). */
export const RETRY_AFTER_S = 5;

export interface ErrorBody {
  code: string;
  message: string;
  recoverable?: boolean;
  issues?: unknown[];
}

export interface HttpAnswer {
  status: number;
  error: ErrorBody;
}

/** The error body-parser and the router raise (http-errors): `type` names the failure. */
interface HttpLibError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
  charset?: unknown;
  encoding?: unknown;
}

const text = (v: unknown): string => (typeof v === "string" ? v : "");

/** What a failure means for the client. Framework-free, so each mapping is testable on its own. */
export function answerFor(err: unknown): HttpAnswer {
  if (isAgentbusError(err)) {
    const status = httpStatusOf(err.code);
    // An AgentbusError without a mapping is a bug here, not the client's: its message may say more
    // than a client should see, so it goes to the log and the client gets the code only.
    if (status === 500) return { status, error: { code: err.code, message: "unexpected error; see the server log" } };
    return { status, error: err.toJSON() };
  }
  if (err instanceof URIError) {
    return { status: 400, error: { code: "BAD_REQUEST", message: "the path is not valid percent-encoding (e.g. a lone % or a byte sequence that is not UTF-8); encode it with encodeURIComponent" } };
  }
  const e = (typeof err === "object" && err !== null ? err : {}) as HttpLibError;
  switch (e.type) {
    case "entity.parse.failed":
      return { status: 400, error: { code: "BAD_REQUEST", message: `the body is not valid JSON: ${text(e.message)}`, issues: [] } };
    case "entity.too.large":
      return { status: 413, error: { code: "TOO_LARGE", message: `the body is larger than ${BODY_LIMIT_BYTES / 1024} KB` } };
    case "charset.unsupported":
      return {
        status: 415,
        error: { code: "UNSUPPORTED_MEDIA_TYPE", message: `unsupported charset ${JSON.stringify(text(e.charset))}; send JSON as UTF-8 (content-type: application/json; charset=utf-8)` },
      };
    case "encoding.unsupported":
      return {
        status: 415,
        error: { code: "UNSUPPORTED_MEDIA_TYPE", message: `unsupported content-encoding ${JSON.stringify(text(e.encoding))}; send the body uncompressed (identity) or as gzip, deflate or br` },
      };
    default:
      break;
  }
  // Any other client error http-errors marks as safe to show (aborted body, bad length …).
  if (typeof e.status === "number" && e.status >= 400 && e.status < 500 && e.expose === true) {
    return { status: e.status, error: { code: "BAD_REQUEST", message: text(e.message) || "bad request" } };
  }
  return { status: 500, error: { code: "INTERNAL", message: "unexpected error; see the server log" } };
}

/** The Express error handler: answer, and log every 5xx (503 as a warning with its code, 500 with the stack). */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const answer = answerFor(err);
    if (answer.status >= 500) logFailure(logger, err, req, answer);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (answer.status === 503) res.set("Retry-After", String(RETRY_AFTER_S));
    res.status(answer.status).json({ error: answer.error });
  };
}

function logFailure(logger: Logger, err: unknown, req: Request, answer: HttpAnswer): void {
  const where = { method: req.method, path: req.originalUrl.split("?")[0], status: answer.status };
  if (answer.status === 503 && isAgentbusError(err)) {
    // Expected during an outage: the code and message say it all; the cause says why.
    const cause = err.cause instanceof Error ? err.cause.message : typeof err.cause === "string" ? err.cause : undefined;
    logger.warn({ ...where, code: err.code, ...(cause ? { cause } : {}) }, `HTTP ${answer.status} ${where.method} ${where.path}: ${err.code}: ${err.message}`);
    return;
  }
  const code = isAgentbusError(err) ? err.code : answer.error.code;
  const message = err instanceof Error ? err.message : String(err);
  logger.error({ ...where, code, err }, `HTTP ${answer.status} ${where.method} ${where.path}: ${code}: ${message}`);
}
