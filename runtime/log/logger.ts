/**
 * Structured logs (pino), always to stderr, so stdout stays clean for command output and --json.
 * On a terminal they are readable lines (pino-pretty); anywhere else (files, pipes, log shippers)
 * one JSON object per line. AGENTBUS_LOG_FORMAT (or LOG_FORMAT) = json | pretty overrides the guess.
 */
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import { ConfigError } from "../errors/index.ts";

export type { Logger };

export type LogFormat = "json" | "pretty";

export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

/** The format for `env` and a stderr that is (or is not) a terminal. */
export function logFormat(env: Record<string, string | undefined>, isTTY: boolean = process.stderr.isTTY === true): LogFormat {
  const name = env.AGENTBUS_LOG_FORMAT !== undefined ? "AGENTBUS_LOG_FORMAT" : "LOG_FORMAT";
  const given = (env.AGENTBUS_LOG_FORMAT ?? env.LOG_FORMAT)?.trim().toLowerCase();
  if (given === undefined || given === "" || given === "auto") return isTTY ? "pretty" : "json";
  if ((LOG_FORMATS as readonly string[]).includes(given)) return given as LogFormat;
  throw new ConfigError(`${name} must be json, pretty or auto, got ${JSON.stringify(given)}`);
}

export interface LoggerOptions {
  /** From the configuration (AGENTBUS_LOG_FORMAT); absent: pretty on a terminal, JSON elsewhere. */
  format?: LogFormat | undefined;
  /** Whether stderr is a terminal (colours); default: ask it. */
  isTTY?: boolean;
}

export function createLogger(level = "info", name = "agentbus", options: LoggerOptions = {}): Logger {
  const isTTY = options.isTTY ?? process.stderr.isTTY === true;
  const format = options.format ?? (isTTY ? "pretty" : "json");
  const base = { name, level, base: { pid: process.pid } };
  if (format === "json") return pino(base, pino.destination({ fd: 2, sync: false }));
  // pino-pretty writes to stdout unless told otherwise; synchronous, so a line written just
  // before the process exits is still seen (a person reads these; their volume is small).
  return pino(base, pretty({ destination: 2, sync: true, colorize: isTTY, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name" }));
}

/** A logger that discards everything; for tests and quiet CLI calls. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
