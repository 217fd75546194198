/**
 * The global commitment over every audit chain: an append-only Merkle tree in the style of RFC 6962
 * (Certificate Transparency). Each committed writer batch is one leaf; a signed checkpoint (tree
 * size N, root R) pins the first N leaves, and anyone can later recompute R from the log to show
 * that nothing committed before it was removed, reordered or rewritten.
 *
 * leaf hash = sha256(0x00 || leaf data), node hash = sha256(0x01 || left || right); the root of a
 * tree that is not a power of two splits at the largest power of two below its size (RFC 6962 §2.1).
 * The tree is kept as its "frontier": the roots of the perfect subtrees that make up its leaves,
 * largest first (one per set bit of the size), so appending a leaf and computing the root are
 * O(log n) and the writer never reads old leaves.
 */
import { createHash } from "node:crypto";
import { sha256Hex } from "./canonical.ts";

/** Root of the empty tree: sha256 of nothing (RFC 6962). */
export const EMPTY_ROOT = createHash("sha256").digest("hex");

export function leafHash(data: string): string {
  return createHash("sha256").update(LEAF_PREFIX).update(data, "utf8").digest("hex");
}

export function nodeHash(leftHex: string, rightHex: string): string {
  return createHash("sha256").update(NODE_PREFIX).update(Buffer.from(leftHex, "hex")).update(Buffer.from(rightHex, "hex")).digest("hex");
}

/** The frontier after appending one leaf to a tree of `size` leaves (the input is not changed). */
export function appendLeaf(frontier: readonly string[], size: number, leaf: string): string[] {
  const next = [...frontier];
  let h = leaf;
  // Each trailing set bit of the size is a perfect subtree of the new leaf's size: merge them.
  for (let n = size; n % 2 === 1; n = Math.floor(n / 2)) {
    const left = next.pop();
    if (left === undefined) throw new Error(`merkle frontier of ${frontier.length} subtrees does not fit tree size ${size}`);
    h = nodeHash(left, h);
  }
  next.push(h);
  return next;
}

/** Root of the tree a frontier describes: the subtrees folded from the right. */
export function rootOf(frontier: readonly string[]): string {
  if (frontier.length === 0) return EMPTY_ROOT;
  let h = frontier[frontier.length - 1] as string;
  for (let i = frontier.length - 2; i >= 0; i--) h = nodeHash(frontier[i] as string, h);
  return h;
}

/** Builds the root over leaves fed one by one, and remembers the root at chosen sizes. */
export class MerkleBuilder {
  private frontier: string[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  push(leaf: string): void {
    this.frontier = appendLeaf(this.frontier, this.n, leaf);
    this.n++;
  }

  root(): string {
    return rootOf(this.frontier);
  }
}

/** One chain's contiguous run of rows in a leaf: `last - first + 1` row hashes, in seq order. */
export interface LeafRange {
  chainKey: string;
  first: number;
  last: number;
  hashes: string[];
}

/**
 * The data a leaf commits to: per range, `sha256(chain key) first last hash…` and a newline. The
 * chain key goes in hashed so that any character it may hold cannot make two leaves' data collide;
 * everything else is hex or decimal. Migration 0003 builds the same text in SQL for older rows.
 */
export function leafData(ranges: readonly LeafRange[]): string {
  let data = "";
  for (const r of ranges) {
    data += `${sha256Hex(r.chainKey)} ${r.first} ${r.last}`;
    for (const h of r.hashes) data += ` ${h}`;
    data += "\n";
  }
  return data;
}

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
