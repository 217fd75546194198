/** What `verifyAudit` reports: every problem found, each located as precisely as the check allows. */

export type ChainProblem =
  | "hash_mismatch" // the row's content or hashed fields were changed
  | "prev_hash_mismatch" // the row does not link to its predecessor (predecessor changed or replaced)
  | "missing_seq" // rows before this one are gone
  | "duplicate_seq" // two rows claim the same position
  | "beyond_head" // rows past the recorded end of the chain (not written by a writer)
  | "missing_tail" // the newest rows of the chain are gone
  | "head_mismatch" // the chain ends on a different hash than recorded
  | "head_missing"; // the chain's head record is gone

export type CommitmentProblem =
  | "session_without_chain" // a sessions / workflow_records row names a session that has no audit rows
  | "chain_missing" // the global commitment holds rows of a chain that has no chain head any more
  | "uncommitted_rows" // chain rows that no leaf of the global commitment covers (written around the writer)
  | "range_mismatch" // a leaf's range does not continue its chain where the previous leaf left it
  | "leaf_missing" // leaf indexes are missing from the commitment
  | "leaf_rows_missing" // rows a leaf committed to are gone
  | "leaf_mismatch" // rows a leaf committed to are no longer what it committed to (rewritten, re-hashed)
  | "tree_missing" // the audit_tree row is gone
  | "tree_mismatch" // the recorded tree size or root does not match the leaves
  | "rollback" // the log holds fewer leaves than a checkpoint signed earlier: it was truncated or restored
  | "checkpoint_mismatch"; // the log's first N leaves do not reproduce the checkpoint's root

export type Problem = ChainProblem | CommitmentProblem;

export interface BrokenRow {
  problem: Problem;
  /** The chain concerned; null for problems of the commitment as a whole. */
  chainKey: string | null;
  sessionId: string | null;
  /** audit_log id of the offending row (for a retention stub: of the row it replaced); null if no row is left to name. */
  id: string | null;
  seq: number | null;
  /** Index of the leaf concerned, for commitment problems. */
  leaf?: number;
  message: string;
}

export interface VerifyStats {
  chains: number;
  rows: number;
  pruned: number;
}

/** A checkpoint already checked for its signature: the tree size and root (hex) it commits to. */
export interface CheckpointClaim {
  size: number;
  root: string;
}

export interface CommitmentStats {
  /** Leaves (committed batches) in the tree, and its root (hex). */
  size: number;
  root: string;
}

export interface VerifyResult extends VerifyStats {
  ok: boolean;
  /** Every problem found, chains first (one per broken chain: its first broken row), at most `limit` of each kind of check. */
  broken: BrokenRow[];
  /** The global commitment as recomputed (absent when one session was verified). */
  commitment?: CommitmentStats;
  /** The checkpoint verified against, and whether the log reproduces it. */
  checkpoint?: CheckpointClaim & { consistent: boolean };
}

export interface VerifyOptions {
  /** Verify one session's chain only ('_unsessioned' for the chain of messages without one); skips the global commitment. */
  sessionId?: string;
  pageSize?: number;
  /** Problems reported at most, per kind of check (default 1000). */
  limit?: number;
  /** Check that the log still reproduces this checkpoint (size and root). */
  against?: CheckpointClaim;
  /** sessions / workflow_records rows younger than this may still wait for their first audit flush (default 60 s). */
  graceMs?: number;
}
