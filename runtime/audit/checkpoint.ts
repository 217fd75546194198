/**
 * Checkpoints in the C2SP tlog-checkpoint format, as a C2SP signed note:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(4-byte key id || Ed25519 signature)>\n
 *
 * The signature covers the note text (the three lines, newline included). The root is the RFC 6962
 * root of the audit log's global commitment (runtime/store/merkle.ts) over its first `size` leaves.
 */
import { sign, verify } from "node:crypto";
import { CheckpointError } from "../errors/index.ts";
import { keyId, type SigningKey, type VerifierKey } from "./keys.ts";

export interface Checkpoint {
  origin: string;
  size: number;
  /** Root hash, hex. */
  root: string;
}

export interface SignedCheckpoint extends Checkpoint {
  /** The whole signed note, as written to a file. */
  note: string;
  keyId: string;
}

const EM_DASH = "\u2014";

export function checkpointBody(c: Checkpoint): string {
  if (!c.origin || c.origin.includes("\n")) throw new CheckpointError("CHECKPOINT_INVALID", "a checkpoint origin is one non-empty line");
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root, "hex").toString("base64")}\n`;
}

export function signCheckpoint(c: Checkpoint, key: SigningKey): SignedCheckpoint {
  const body = checkpointBody(c);
  const id = keyId(key.name, key.publicKey);
  const signature = sign(null, Buffer.from(body, "utf8"), key.privateKey);
  const note = `${body}\n${EM_DASH} ${key.name} ${Buffer.concat([id, signature]).toString("base64")}\n`;
  return { ...c, note, keyId: id.toString("hex") };
}

/** Parses a signed checkpoint and checks its signature by `key` (see openNote). */
export function openCheckpoint(note: string, key: VerifierKey): Checkpoint {
  const body = openNote(note, key);
  const lines = body.slice(0, -1).split("\n");
  const [origin, sizeText, rootText] = lines;
  if (lines.length < 3 || !origin || !sizeText || !rootText) throw new CheckpointError("CHECKPOINT_INVALID", "a checkpoint has an origin, a tree size and a root hash line");
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText)) throw new CheckpointError("CHECKPOINT_INVALID", `tree size ${JSON.stringify(sizeText)} is not a decimal number`);
  const root = Buffer.from(rootText, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootText) throw new CheckpointError("CHECKPOINT_INVALID", "the root hash is not the base64 of 32 bytes");
  return { origin, size: Number(sizeText), root: root.toString("hex") };
}

/**
 * Checks that a C2SP signed note carries a valid signature by `key` and returns its text (the part
 * signed, final newline included). Signatures by other keys (witnesses, say) are allowed and
 * ignored. Throws CHECKPOINT_INVALID for a malformed note, CHECKPOINT_SIGNATURE_INVALID when no
 * line is a valid signature by the key.
 */
export function openNote(note: string, key: VerifierKey): string {
  const split = note.indexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new CheckpointError("CHECKPOINT_INVALID", "not a signed note: no blank line before the signatures");
  const body = note.slice(0, split + 1);
  const wantId = keyId(key.name, key.publicKey);
  const signatures = note.slice(split + 2, -1).split("\n");
  let named = false;
  for (const line of signatures) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new CheckpointError("CHECKPOINT_INVALID", `malformed signature line ${JSON.stringify(line.slice(0, 80))}`);
    if (m[1] !== key.name) continue;
    const blob = Buffer.from(m[2] ?? "", "base64");
    if (blob.length !== 4 + 64 || !blob.subarray(0, 4).equals(wantId)) continue;
    named = true;
    if (verify(null, Buffer.from(body, "utf8"), key.publicKey, blob.subarray(4))) return body;
  }
  throw new CheckpointError(
    "CHECKPOINT_SIGNATURE_INVALID",
    named ? `the signature by ${key.name} does not match the note (it was altered)` : `the note is not signed by key ${key.name} (id ${wantId.toString("hex")})`,
  );
}
