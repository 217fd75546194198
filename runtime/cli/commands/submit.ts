/** `agentbus submit "<text>"`: a new request onto the bus; with --wait, its answer and a compact trace. */
import type { Command } from "commander";
import { checkIdempotencyKey } from "../../http/idempotency.ts";
import type { HopEvent, SessionView } from "../../http/request-service.ts";
import { clientRuntime, configFrom } from "../context.ts";
import { secondsFlag } from "../flags.ts";
import { EXIT, printJson } from "../output.ts";

export function registerSubmit(program: Command): void {
  program
    .command("submit")
    .description("submit a request (to the entry agent, planning_agent by default) and print its session id")
    .argument("<text>", "what you want, e.g. \"Summarize https://example.org/page\"")
    .option("--wait", "wait for the answer (or the failure reason) and print a compact trace")
    .option("--timeout <seconds>", "how long --wait waits", "120")
    .option("--category <category>", "a request category for the records")
    .option("--idempotency-key <key>", "run the request once however often this is retried with the same key (e.g. a UUID)")
    .option("--json", "print JSON (with --wait: the whole session view)")
    .action(async (text: string, opts: { wait?: boolean; timeout: string; category?: string; idempotencyKey?: string; json?: boolean }) => {
      const timeoutS = secondsFlag("--timeout", opts.timeout);
      const runtime = await clientRuntime(configFrom(program));
      try {
        const service = runtime.requestService();
        const key = opts.idempotencyKey === undefined ? {} : { idempotencyKey: checkIdempotencyKey(opts.idempotencyKey) };
        const submitted = await service.submit({ text, ...(opts.category ? { category: opts.category } : {}) }, "user", key);
        if (!opts.wait) {
          if (opts.json) printJson(submitted);
          else process.stdout.write(`${submitted.session_id}\n`);
          return;
        }
        if (!opts.json) process.stderr.write(`session ${submitted.session_id}: waiting for the answer…\n`);
        const hops: HopEvent[] = [];
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), timeoutS * 1000);
        try {
          for await (const hop of service.follow(submitted.session_id, { signal: abort.signal, pollMs: 100 })) {
            hops.push(hop);
            if (!opts.json) process.stderr.write(`  ${describeHop(hop)}\n`);
          }
        } finally {
          clearTimeout(timer);
        }
        const view = await service.session(submitted.session_id);
        if (!view.finished_at) {
          if (opts.json) printJson({ ...view, timed_out: true });
          else process.stdout.write(`✗ no answer within ${timeoutS} s; the session is still ${view.status}. Follow it with: agentbus trace ${view.session_id}\n`);
          process.exitCode = EXIT.failed;
          return;
        }
        if (opts.json) printJson(view);
        else process.stdout.write(describeOutcome(view));
        process.exitCode = view.status === "success" ? EXIT.ok : EXIT.failed;
      } finally {
        await runtime.close();
      }
    });
}

function describeHop(h: HopEvent): string {
  const route = h.event === "delivered" ? `→ ${h.agent}` : `${h.from ?? "?"} → ${h.to ?? "?"}`;
  return `${String(h.seq ?? "?").padStart(3)}  ${h.event.padEnd(13)} ${route.padEnd(34)} ${h.content_type ?? ""}${h.status && h.status !== "success" ? `  ${h.status}` : ""}${h.error_code ? `  ${h.error_code}` : ""}`;
}

function describeOutcome(view: SessionView): string {
  const answer = (view.answer ?? {}) as { answer?: unknown };
  const took = view.finished_at ? Date.parse(view.finished_at) - Date.parse(view.started_at) : 0;
  const head = view.status === "success" ? "✓" : view.status === "partial" ? "◐" : "✗";
  const lines = [`${head} ${view.status} in ${took} ms (session ${view.session_id})`];
  if (typeof answer.answer === "string") lines.push("", answer.answer);
  if (view.error) lines.push("", `reason: ${JSON.stringify(view.error)}`);
  return `${lines.join("\n")}\n`;
}
