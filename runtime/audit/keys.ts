/**
 * The checkpoint signing key: Ed25519, kept in a file outside the database (by default
 * `<data>/keys/audit-ed25519.pem`, mode 0600), created on first use. Whoever can write the database
 * cannot sign checkpoints; whoever holds the public key can check them.
 *
 * Public keys are accepted as PEM (SPKI) or as a signed-note verifier key
 * `<name>+<hex key id>+<base64(0x01 || key)>` (C2SP signed-note), which `agentbus audit public-key`
 * prints.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CheckpointError } from "../errors/index.ts";

/** Signature algorithm byte of Ed25519 in C2SP signed notes. */
const ED25519_ALG = 0x01;

export interface SigningKey {
  /** The key name (the log's origin): it is part of the key id and of every signature line. */
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface VerifierKey {
  name: string;
  publicKey: KeyObject;
}

/** Loads the private key from `file`, creating it (and its folder) when it does not exist yet. */
export function loadOrCreateSigningKey(file: string, name: string): SigningKey {
  assertKeyName(name);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    try {
      renameSync(tmp, file); // atomic: two processes creating it at once end with one key
    } catch (err) {
      throw new CheckpointError("AUDIT_KEY_INVALID", `could not create the audit signing key ${file}: ${String(err)}`, { cause: err });
    }
    chmodSync(file, 0o600);
  }
  return loadSigningKey(file, name);
}

export function loadSigningKey(file: string, name: string): SigningKey {
  assertKeyName(name);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new CheckpointError(existsSync(file) ? "AUDIT_KEY_INVALID" : "AUDIT_KEY_MISSING", `cannot read the audit signing key ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new CheckpointError("AUDIT_KEY_INVALID", `${file} is a ${privateKey.asymmetricKeyType ?? "?"} key; checkpoints are signed with Ed25519`);
  return { name, privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * A verifier key from a file: a signed-note verifier key line (carries its own name), or a PEM
 * public or private key (named `name`).
 */
export function loadVerifierKey(file: string, name: string): VerifierKey {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new CheckpointError("AUDIT_KEY_MISSING", `cannot read the public key ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!text.startsWith("-----BEGIN")) return parseVerifierKey(text);
  try {
    const key = text.includes("PRIVATE KEY") ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`a ${key.asymmetricKeyType ?? "?"} key, not Ed25519`);
    return { name, publicKey: key };
  } catch (err) {
    throw new CheckpointError("AUDIT_KEY_INVALID", `${file} is not an Ed25519 key: ${(err as Error).message}`, { cause: err });
  }
}

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new CheckpointError("AUDIT_KEY_INVALID", "not an Ed25519 public key");
  return Buffer.from(jwk.x, "base64url");
}

/** C2SP signed-note key id: the first 4 bytes of sha256(name || "\n" || 0x01 || public key). */
export function keyId(name: string, publicKey: KeyObject): Buffer {
  return createHash("sha256")
    .update(Buffer.from(`${name}\n`, "utf8"))
    .update(Buffer.from([ED25519_ALG]))
    .update(rawPublicKey(publicKey))
    .digest()
    .subarray(0, 4);
}

/** `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function verifierKeyString(key: VerifierKey): string {
  return `${key.name}+${keyId(key.name, key.publicKey).toString("hex")}+${Buffer.concat([Buffer.from([ED25519_ALG]), rawPublicKey(key.publicKey)]).toString("base64")}`;
}

export function parseVerifierKey(text: string): VerifierKey {
  // The base64 key may itself contain '+': only the first two separate fields.
  const t = text.trim();
  const a = t.indexOf("+");
  const b = a < 0 ? -1 : t.indexOf("+", a + 1);
  const [name, id, material] = b < 0 ? [] : [t.slice(0, a), t.slice(a + 1, b), t.slice(b + 1)];
  if (!name || !id || !material) throw new CheckpointError("AUDIT_KEY_INVALID", "a verifier key is <name>+<hex key id>+<base64 key>");
  const raw = Buffer.from(material, "base64");
  if (raw.length !== 33 || raw[0] !== ED25519_ALG) throw new CheckpointError("AUDIT_KEY_INVALID", "the verifier key is not an Ed25519 key (algorithm byte 0x01 and 32 bytes)");
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.subarray(1).toString("base64url") }, format: "jwk" });
  if (keyId(name, publicKey).toString("hex") !== id.toLowerCase()) throw new CheckpointError("AUDIT_KEY_INVALID", "the verifier key's id does not match its name and key");
  return { name, publicKey };
}

function assertKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) throw new CheckpointError("AUDIT_KEY_INVALID", `key name ${JSON.stringify(name)} must be non-empty, without spaces or '+'`);
}
