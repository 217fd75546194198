/**
 * Embedded Postgres: PGlite with its data under `<dataDir>/pglite`, served on 127.0.0.1 by
 * pglite-socket so that `pg` connects to it like to any server.
 *
 * PGlite is single-process: two processes opening the same data folder corrupt it. The process that
 * opens it writes `<dataDir>/pglite.lock.json` ({pid, host, port}); another process of the same
 * deployment (the CLI while the runtime runs, a second worker) finds the lock, sees the owner alive
 * and connects to its socket instead. A lock left by a dead process is taken over.
 */
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { InfrastructureError } from "../errors/index.ts";

export interface EmbeddedEndpoint {
  host: string;
  port: number;
  /** True when this process opened PGlite; false when it connects to another process's server. */
  owner: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Connections the socket server multiplexes over PGlite's single one. */
  maxConnections?: number;
  /** How long to wait for another process that is still starting the server. */
  startTimeoutMs?: number;
}

interface LockInfo {
  pid: number;
  host?: string;
  port?: number;
}

export async function startEmbedded(input: EmbeddedOptions): Promise<EmbeddedEndpoint> {
  const options = { ...input, dataDir: resolve(input.dataDir) }; // PGlite is given an absolute path whatever the cwd
  const lockPath = join(options.dataDir, "pglite.lock.json");
  await mkdir(options.dataDir, { recursive: true });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    const created = await tryCreateLock(lockPath);
    if (created) return serve(options, lockPath);
    const info = await readLock(lockPath);
    if (info && !isAlive(info.pid)) {
      await rm(lockPath, { force: true }); // stale: its owner died without cleaning up
      continue;
    }
    if (info?.port !== undefined && (await canConnect(info.host ?? "127.0.0.1", info.port))) {
      return { host: info.host ?? "127.0.0.1", port: info.port, owner: false, stop: async () => {} };
    }
    if (Date.now() > deadline) {
      throw new InfrastructureError("STORE_UNAVAILABLE", `embedded database at ${options.dataDir} is locked by process ${info?.pid ?? "?"} but not reachable (remove ${lockPath} if that process is gone)`);
    }
    await sleep(100); // the owner is still starting (initdb takes a few seconds on first run)
  }
}

async function serve(options: EmbeddedOptions, lockPath: string): Promise<EmbeddedEndpoint> {
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create(join(options.dataDir, "pglite"));
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: options.maxConnections ?? 64 });
    await server.start();
    const [host = "127.0.0.1", portText = ""] = server.getServerConn().split(":");
    const port = Number(portText);
    const lock: LockInfo = { pid: process.pid, host, port };
    await writeLock(lockPath, lock);
    const running = { db, server };
    return {
      host,
      port,
      owner: true,
      stop: async () => {
        await running.server.stop();
        await running.db.close();
        await rm(lockPath, { force: true });
      },
    };
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await rm(lockPath, { force: true });
    throw new InfrastructureError("STORE_UNAVAILABLE", `could not start the embedded database in ${options.dataDir}: ${String(err)}`, { cause: err });
  }
}

async function tryCreateLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx"); // exclusive create: exactly one process wins
    await handle.writeFile(JSON.stringify({ pid: process.pid } satisfies LockInfo));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === "EEXIST") return false;
    throw err;
  }
}

async function writeLock(path: string, info: LockInfo): Promise<void> {
  const handle = await open(path, "w");
  await handle.writeFile(JSON.stringify(info));
  await handle.close();
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { pid, host, port } = parsed as Record<string, unknown>;
    if (typeof pid !== "number") return undefined;
    return { pid, ...(typeof host === "string" ? { host } : {}), ...(typeof port === "number" ? { port } : {}) };
  } catch {
    return undefined; // missing or half-written: the caller retries
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === "EPERM";
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
