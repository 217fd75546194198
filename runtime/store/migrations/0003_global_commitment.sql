-- 0003: the global commitment over all audit chains (an RFC 6962 Merkle tree, one leaf per committed
-- writer batch) and the history of signed checkpoints. See runtime/store/merkle.ts.

-- The tree's current state, one row. Writers lock it (SELECT ... FOR UPDATE) after their chain heads,
-- so leaves get one global order across processes; it only ever grows.
CREATE TABLE audit_tree (
  id         smallint    PRIMARY KEY CHECK (id = 1),
  size       bigint      NOT NULL CHECK (size >= 0),
  -- Roots of the perfect subtrees that make up the leaves, largest first (hex).
  frontier   text[]      NOT NULL,
  root       text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One leaf per committed batch: which rows it covers (per chain a contiguous seq range, in the leaf's
-- order) and its RFC 6962 leaf hash over those rows' (chain, seq, hash). Verification recomputes it.
CREATE TABLE audit_leaves (
  idx          bigint      PRIMARY KEY CHECK (idx >= 0),
  ranges       jsonb       NOT NULL, -- [[chain_key, first_seq, last_seq], ...]
  row_count    integer     NOT NULL CHECK (row_count > 0),
  leaf_hash    text        NOT NULL,
  root         text        NOT NULL, -- the tree's root once this leaf was added
  committed_at timestamptz NOT NULL DEFAULT now()
);

-- Every checkpoint signed, for history. Verification never trusts this table: only a checkpoint file
-- kept outside the database and the public key.
CREATE TABLE audit_checkpoints (
  id         bigserial   PRIMARY KEY,
  origin     text        NOT NULL,
  tree_size  bigint      NOT NULL,
  root       text        NOT NULL,
  key_id     text        NOT NULL,
  note       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The guard of 0001, extended: the tree row may only grow; leaves and checkpoints are append-only.
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    IF TG_TABLE_NAME = 'audit_log' AND TG_OP = 'DELETE' THEN
      IF current_setting('agentbus.retention', true) = 'on' AND OLD.outcome = 'delivered' THEN
        RETURN OLD;
      END IF;
    ELSIF TG_TABLE_NAME = 'chain_heads' AND TG_OP = 'UPDATE' THEN
      IF NEW.chain_key = OLD.chain_key AND NEW.last_seq > OLD.last_seq THEN
        RETURN NEW;
      END IF;
    ELSIF TG_TABLE_NAME = 'audit_tree' AND TG_OP = 'UPDATE' THEN
      IF NEW.id = OLD.id AND NEW.size > OLD.size THEN
        RETURN NEW;
      END IF;
    END IF;
  END IF;
  RAISE EXCEPTION 'agentbus: % on %.% is refused: the audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_tree_forward_only BEFORE UPDATE OR DELETE ON audit_tree
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Rows written before this migration become leaf 0 (one range per chain, chains in byte order), so
-- the first checkpoint commits to them too. The text is exactly merkle.ts's leafData().
WITH e AS (
  SELECT chain_key, seq_in_chain AS seq, hash FROM audit_log
  UNION ALL
  SELECT chain_key, seq, hash FROM audit_pruned
), chains AS (
  SELECT chain_key, min(seq) AS first, max(seq) AS last, count(*) AS n, string_agg(hash, ' ' ORDER BY seq) AS hashes
  FROM e GROUP BY chain_key
), leaf AS (
  SELECT jsonb_agg(jsonb_build_array(chain_key, first, last) ORDER BY chain_key) AS ranges,
         sum(n)::integer AS row_count,
         encode(sha256('\x00'::bytea || convert_to(
           string_agg(encode(sha256(convert_to(chain_key, 'UTF8')), 'hex') || ' ' || first || ' ' || last || ' ' || hashes || E'\n', '' ORDER BY chain_key),
           'UTF8')), 'hex') AS leaf_hash
  FROM chains
  HAVING count(*) > 0
), genesis AS (
  INSERT INTO audit_leaves (idx, ranges, row_count, leaf_hash, root)
  SELECT 0, ranges, row_count, leaf_hash, leaf_hash FROM leaf
  RETURNING leaf_hash
)
INSERT INTO audit_tree (id, size, frontier, root)
SELECT 1, 1, ARRAY[leaf_hash], leaf_hash FROM genesis
UNION ALL
SELECT 1, 0, '{}'::text[], encode(sha256(''::bytea), 'hex') WHERE NOT EXISTS (SELECT 1 FROM leaf);
