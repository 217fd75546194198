/** A real pino logger that keeps its lines in memory, so tests can assert what was logged. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export const LEVEL = { info: 30, warn: 40, error: 50 } as const;

export function memoryLogger(level = "info"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
