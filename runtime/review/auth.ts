/**
 * Administrator accounts and their sessions. Passwords are hashed with scrypt (node:crypto) and a
 * per-account random salt; sessions live in Postgres under the sha256 of a random id the cookie
 * carries, each with its own CSRF token and an expiry.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { AgentbusError } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { sha256Hex } from "../store/canonical.ts";
import { table, type Db } from "../store/db.ts";
import { PROPOSER } from "../rules/content.ts";
import type { Role } from "./types.ts";

export const ROLES: readonly Role[] = ["viewer", "reviewer"];
export const ACCOUNT_NAME = /^[a-z][a-z0-9_.-]{2,63}$/;
/** Names no person may take: the proposer's identity and the system's. */
const RESERVED = new Set([PROPOSER, "guardrail", "system", "api_token"]);
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await scrypt(password, Buffer.from(salt, "base64"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Why a password is refused, or null. Long passphrases are the point; no composition rules. */
export function weakPassword(password: string, name: string): string | null {
  if (password.length < 12) return "must be at least 12 characters";
  if (password.length > 1024) return "must be at most 1024 characters";
  if (new Set(password).size < 5) return "uses too few different characters";
  const lower = password.toLowerCase();
  if (lower.includes(name.toLowerCase())) return "must not contain the account name";
  if (/^(password|passw0rd|letmein|qwerty|admin|123456|changeme)/.test(lower)) return "is a commonly guessed password";
  return null;
}

export interface Account {
  name: string;
  role: Role;
}

export interface AdminSession {
  account: Account;
  csrf: string;
  expires_at: Date;
}

export class AccountStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async create(name: string, role: Role, password: string): Promise<Account> {
    if (!ACCOUNT_NAME.test(name)) throw new AgentbusError("BAD_REQUEST", `account name ${JSON.stringify(name)} must be 3-64 characters: lowercase letters, digits, '_', '.', '-', starting with a letter`);
    if (RESERVED.has(name)) throw new AgentbusError("BAD_REQUEST", `${name} is reserved (the proposer and the system cannot hold accounts)`);
    if (!ROLES.includes(role)) throw new AgentbusError("BAD_REQUEST", `role must be one of ${ROLES.join(", ")}`);
    const weak = weakPassword(password, name);
    if (weak) throw new AgentbusError("WEAK_PASSWORD", `the password ${weak}`);
    const r = await this.db.query(`INSERT INTO ${table(this.db, "admin_accounts")} (name, role, password) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [name, role, await hashPassword(password)]);
    if (r.rowCount !== 1) throw new AgentbusError("ACCOUNT_EXISTS", `account ${name} exists already`);
    return { name, role };
  }

  async count(): Promise<number> {
    const r = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table(this.db, "admin_accounts")} WHERE NOT disabled`);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** The account when the password is right; null otherwise (same work either way). */
  async authenticate(name: string, password: string): Promise<Account | null> {
    const r = await this.db.query<{ name: string; role: Role; password: string }>(`SELECT name, role, password FROM ${table(this.db, "admin_accounts")} WHERE name = $1 AND NOT disabled`, [name]);
    const row = r.rows[0];
    // A missing account still costs one scrypt, so timing does not tell which names exist.
    const ok = await verifyPassword(password, row?.password ?? DUMMY);
    return row && ok ? { name: row.name, role: row.role } : null;
  }

  async startSession(account: Account): Promise<{ id: string; session: AdminSession }> {
    const id = randomBytes(32).toString("base64url");
    const csrf = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const expires = new Date(now + SESSION_TTL_MS);
    await this.db.query(`DELETE FROM ${table(this.db, "admin_sessions")} WHERE expires_at < $1`, [new Date(now)]);
    await this.db.query(`INSERT INTO ${table(this.db, "admin_sessions")} (id_hash, account, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [sha256Hex(id), account.name, csrf, new Date(now), expires]);
    return { id, session: { account, csrf, expires_at: expires } };
  }

  async session(id: string | undefined): Promise<AdminSession | null> {
    if (!id || id.length > 100) return null;
    const r = await this.db.query<{ name: string; role: Role; csrf_token: string; expires_at: Date }>(
      `SELECT a.name, a.role, s.csrf_token, s.expires_at FROM ${table(this.db, "admin_sessions")} s JOIN ${table(this.db, "admin_accounts")} a ON a.name = s.account
       WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT a.disabled`,
      [sha256Hex(id), new Date(this.clock.now())],
    );
    const row = r.rows[0];
    return row ? { account: { name: row.name, role: row.role }, csrf: row.csrf_token, expires_at: row.expires_at } : null;
  }

  async endSession(id: string | undefined): Promise<void> {
    if (id) await this.db.query(`DELETE FROM ${table(this.db, "admin_sessions")} WHERE id_hash = $1`, [sha256Hex(id)]);
  }
}

/** Equal-length comparison of a submitted CSRF token with the session's. */
export function csrfMatches(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
