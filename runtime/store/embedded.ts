/**
 * Embedded Postgres: PGlite with its data under `<dataDir>/pglite`, served on 127.0.0.1 by
 * pglite-socket so that `pg` connects to it like to any server.
 *
 * PGlite is single-process: two processes opening the same data folder corrupt it. The process that
 * opens it writes `<dataDir>/pglite.lock.json` ({pid, host, port}); another process of the same
 * deployment (the CLI while the runtime runs, a second worker) finds the lock, sees the owner alive
 * and connects to its socket instead.
 *
 * When the serving process dies (killed, crashed), the others take over: the first to notice
 * (its connection refused) wins an exclusive marker for that dead owner, rewrites the lock with its
 * own pid and serves the same data folder; the rest find the new owner in the lock and connect to
 * it (`EmbeddedEndpoint.recover()`, called by the store's pool). The lock file is never deleted
 * during a take-over, so there is no moment in which a third process could also claim it.
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { InfrastructureError } from "../errors/index.ts";

export interface EmbeddedEndpoint {
  /** Where the server listens now; changes after a take-over. */
  readonly host: string;
  readonly port: number;
  /** True while this process serves PGlite; false while it connects to another process's server. */
  readonly owner: boolean;
  /**
   * The server is unreachable: find it again. Takes over serving when its process has died, or
   * finds the process that did. Resolves to the (possibly new) address.
   */
  recover(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Connections the socket server multiplexes over PGlite's single one. */
  maxConnections?: number;
  /** How long to wait for another process that is still starting the server. */
  startTimeoutMs?: number;
  /** Told when this process takes over serving from a dead one. */
  onTakeOver?: (info: { deadPid: number; port: number }) => void;
}

interface LockInfo {
  pid: number;
  host?: string;
  port?: number;
}

interface Served {
  host: string;
  port: number;
  stop(): Promise<void>;
}

type Acquired = { owner: true; served: Served } | { owner: false; host: string; port: number };

export async function startEmbedded(input: EmbeddedOptions): Promise<EmbeddedEndpoint> {
  const options = { ...input, dataDir: resolve(input.dataDir) }; // PGlite is given an absolute path whatever the cwd
  await mkdir(options.dataDir, { recursive: true });
  let current = await acquire(options);
  let recovering: Promise<{ host: string; port: number }> | undefined;
  const address = (): { host: string; port: number } => (current.owner ? { host: current.served.host, port: current.served.port } : { host: current.host, port: current.port });
  return {
    get host() {
      return address().host;
    },
    get port() {
      return address().port;
    },
    get owner() {
      return current.owner;
    },
    recover() {
      if (current.owner) return Promise.resolve(address()); // we serve it: nothing to find
      recovering ??= acquire(options).then(
        (next) => {
          current = next;
          recovering = undefined;
          return address();
        },
        (err: unknown) => {
          recovering = undefined;
          throw err;
        },
      );
      return recovering;
    },
    stop: async () => {
      if (current.owner) await current.served.stop();
    },
  };
}

/** Serve the data folder (fresh lock, or taking over from a dead owner), or find who serves it. */
async function acquire(options: EmbeddedOptions): Promise<Acquired> {
  const lockPath = join(options.dataDir, "pglite.lock.json");
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (await tryCreateLock(lockPath)) return { owner: true, served: await serve(options, lockPath) };
    const info = await readLock(lockPath);
    if (info && info.pid !== process.pid && !isAlive(info.pid)) {
      if (await claimTakeOver(lockPath, info.pid)) {
        const served = await serve(options, lockPath);
        options.onTakeOver?.({ deadPid: info.pid, port: served.port });
        return { owner: true, served };
      }
      await sleep(50); // another process won the take-over; it is starting the server
      continue;
    }
    if (info?.port !== undefined && (await canConnect(info.host ?? "127.0.0.1", info.port))) {
      return { owner: false, host: info.host ?? "127.0.0.1", port: info.port };
    }
    if (Date.now() > deadline) {
      throw new InfrastructureError("STORE_UNAVAILABLE", `embedded database at ${options.dataDir} is locked by process ${info?.pid ?? "?"} but not reachable (remove ${lockPath} if that process is gone)`);
    }
    await sleep(100); // the owner is still starting (initdb takes a few seconds on first run)
  }
}

/**
 * Exactly one process may take over from a given dead owner: the one that creates its marker. The
 * winner writes its own pid into the lock at once (atomically, by rename), before opening PGlite.
 */
async function claimTakeOver(lockPath: string, deadPid: number): Promise<boolean> {
  const marker = `${lockPath}.takeover-${deadPid}`;
  if (!(await tryCreateLock(marker))) {
    // A taker that died before rewriting the lock would block every other: clear its marker.
    const taker = await readLock(marker);
    if (taker && !isAlive(taker.pid)) await rm(marker, { force: true });
    return false;
  }
  try {
    const again = await readLock(lockPath);
    if (again?.pid !== deadPid) return false; // the lock changed meanwhile (a clean restart): not ours to take
    await writeLock(lockPath, { pid: process.pid });
    return true;
  } finally {
    // Once the lock names its new owner the marker is not needed: a late loser re-reads the lock.
    await rm(marker, { force: true });
  }
}

async function serve(options: EmbeddedOptions, lockPath: string): Promise<Served> {
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

/** Replaces the lock's content atomically: readers see the old or the new, never half of either. */
async function writeLock(path: string, info: LockInfo): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, "w");
  await handle.writeFile(JSON.stringify(info));
  await handle.close();
  await rename(tmp, path);
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
