/** The pieces of the transparency log that need no database: RFC 6962 hashing, C2SP notes, keys. */
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoint, openNote, signCheckpoint } from "../../runtime/audit/checkpoint.ts";
import { loadOrCreateSigningKey, parseVerifierKey, verifierKeyString } from "../../runtime/audit/keys.ts";
import { EMPTY_ROOT, MerkleBuilder, appendLeaf, leafHash, rootOf } from "../../runtime/store/merkle.ts";

const dir = mkdtempSync(join(tmpdir(), "agentbus-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RFC 6962 §2.1 MTH, written as the RFC defines it. */
function mth(leaves: string[]): string {
  if (leaves.length === 0) return createHash("sha256").digest("hex");
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash("sha256").update(Buffer.from([1])).update(Buffer.from(mth(leaves.slice(0, k)), "hex")).update(Buffer.from(mth(leaves.slice(k)), "hex")).digest("hex");
}

describe("the Merkle tree", () => {
  it("computes the RFC 6962 root from its frontier at every size", () => {
    expect(EMPTY_ROOT).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // RFC 6962 leaf hash of the empty string (the CT test vectors' first leaf).
    expect(leafHash("")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    const leaves: string[] = [];
    const b = new MerkleBuilder();
    let frontier: string[] = [];
    for (let n = 0; n <= 40; n++) {
      expect(b.root()).toBe(mth(leaves));
      expect(rootOf(frontier)).toBe(mth(leaves));
      const leaf = leafHash(`leaf ${n}`);
      frontier = appendLeaf(frontier, n, leaf);
      leaves.push(leaf);
      b.push(leaf);
      expect(frontier.length).toBe((n + 1).toString(2).replace(/0/g, "").length); // one subtree per set bit
    }
  });
});

describe("signed notes", () => {
  // The example key and note of golang.org/x/mod/sumdb/note (the C2SP signed-note reference implementation).
  const VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const SIG = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

  it("verifies the reference implementation's note with its verifier key", () => {
    const key = parseVerifierKey(VKEY);
    expect(verifierKeyString(key)).toBe(VKEY);
    expect(openNote(`${TEXT}\n${SIG}`, key)).toBe(TEXT);
    expect(() => openNote(`${TEXT.replace("answer", "ANSWER")}\n${SIG}`, key)).toThrow(expect.objectContaining({ code: "CHECKPOINT_SIGNATURE_INVALID" }));
    expect(() => parseVerifierKey(VKEY.replace("c74f20a3", "c74f20a4"))).toThrow(/id does not match/);
  });

  it("signs checkpoints in the tlog-checkpoint format and refuses altered ones or other keys", () => {
    const key = loadOrCreateSigningKey(join(dir, "keys", "k.pem"), "example.org/log");
    expect(statSync(join(dir, "keys", "k.pem")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSigningKey(join(dir, "keys", "k.pem"), "example.org/log").publicKey.export({ format: "jwk" })).toEqual(key.publicKey.export({ format: "jwk" }));
    const root = createHash("sha256").update("r").digest("hex");
    const { note } = signCheckpoint({ origin: "example.org/log", size: 42, root }, key);
    const lines = note.split("\n");
    expect(lines.slice(0, 4)).toEqual(["example.org/log", "42", Buffer.from(root, "hex").toString("base64"), ""]);
    expect(lines[4]).toMatch(/^\u2014 example\.org\/log [A-Za-z0-9+/]{91}=$/); // base64 of 4-byte key id + 64-byte signature: 68 bytes
    const verifier = parseVerifierKey(verifierKeyString(key));
    expect(openCheckpoint(note, verifier)).toEqual({ origin: "example.org/log", size: 42, root });
    expect(() => openCheckpoint(note.replace("\n42\n", "\n43\n"), verifier)).toThrow(expect.objectContaining({ code: "CHECKPOINT_SIGNATURE_INVALID" }));
    const stranger = { name: "example.org/log", publicKey: generateKeyPairSync("ed25519").publicKey };
    expect(() => openCheckpoint(note, stranger)).toThrow(/not signed by key/);
    expect(() => openCheckpoint("example.org/log\n42\n", verifier)).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID" }));
  });
});
