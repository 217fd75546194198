/** Shared CLI plumbing: exit codes, JSON vs. human output, and one place that maps errors to exits. */
import { EXIT, exitCodeOf, isAgentbusError, type Issue } from "../errors/index.ts";

export { EXIT };

export interface OutputOptions {
  json?: boolean;
}

/**
 * A reader that goes away (`agentbus trace … --json | head`) is not an error: output nobody reads
 * is dropped quietly and the command finishes as it would have (closing its connections and
 * flushing the audit log, which exiting at once would lose). Installed once, for every command.
 */
export function ignoreClosedPipes(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") return;
      throw err;
    });
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatIssues(issues: readonly Issue[], indent = "  "): string {
  const width = Math.min(40, Math.max(0, ...issues.map((i) => (i.pointer || "/").length)));
  return issues.map((i) => `${indent}${(i.pointer || "/").padEnd(width)}  ${i.message}  [${i.rule}]`).join("\n");
}

/** Prints an error the way a person needs it (code + message + issues) and returns the exit code. */
export function reportError(err: unknown, json = false): number {
  const code = isAgentbusError(err) ? exitCodeOf(err.code) : EXIT.failed;
  if (json) {
    printJson({ ok: false, error: isAgentbusError(err) ? err.toJSON() : { code: "UNEXPECTED", message: String((err as Error)?.message ?? err) } });
  } else if (isAgentbusError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    if (err.issues.length > 0) process.stderr.write(`${formatIssues(err.issues)}\n`);
  } else {
    process.stderr.write(`unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  return code;
}
