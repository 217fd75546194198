/** Runs the real `agentbus` binary in a child process. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.ts";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Run as another user (the test process must be root to do so). */
  as?: { uid: number; gid: number };
  /** Written to the command's stdin, which is then closed (e.g. a password); default: no stdin. */
  stdin?: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(options.as ?? {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`agentbus ${args.join(" ")} timed out\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
