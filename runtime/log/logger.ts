/** Structured logs (pino) to stderr, so stdout stays clean for command output and --json. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level = process.env.LOG_LEVEL ?? "info", name = "agentbus"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that discards everything; for tests and quiet CLI calls. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
