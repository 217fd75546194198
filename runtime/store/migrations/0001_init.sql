-- 0001: audit log (per-session hash chains), chain heads, retention stubs, sessions, workflow records.
-- Runs with search_path set to the store's schema; objects are named unqualified on purpose.

-- Every envelope event, append-only. chain_key is the session id, or '_unsessioned' for a message
-- too broken to name one. hash = sha256(canonical JSON of the row's content + prev_hash); see
-- runtime/store/audit-hash.ts for the exact fields.
CREATE TABLE audit_log (
  id            bigserial   PRIMARY KEY,
  chain_key     text        COLLATE "C" NOT NULL CHECK (chain_key <> ''),
  seq_in_chain  bigint      NOT NULL CHECK (seq_in_chain > 0),
  session_id    text,
  message_id    text,
  outcome       text        NOT NULL CHECK (outcome IN ('published', 'delivered', 'rejected', 'dead_lettered', 'completed')),
  agent         text        NOT NULL,
  reasons       jsonb,
  -- The envelope exactly as received. jsonb cannot hold \u0000 or lone surrogates; such an envelope
  -- is kept as its JSON text instead, so a hostile message can neither be dropped nor block a batch.
  envelope      jsonb,
  envelope_text text,
  recorded_at   timestamptz NOT NULL,
  prev_hash     text        NOT NULL,
  hash          text        NOT NULL,
  CONSTRAINT audit_log_one_envelope CHECK ((envelope IS NULL) <> (envelope_text IS NULL)),
  CONSTRAINT audit_log_chain_seq UNIQUE (chain_key, seq_in_chain)
);
CREATE INDEX audit_log_message_id ON audit_log (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX audit_log_delivered_age ON audit_log (recorded_at) WHERE outcome = 'delivered';

-- Last seq and hash of every chain. Writers lock a chain's row (SELECT ... FOR UPDATE) while they
-- extend it, which serialises chain extension across processes; verification compares the end of
-- each chain with it, so deleting the newest rows is detected too.
CREATE TABLE chain_heads (
  chain_key  text        COLLATE "C" PRIMARY KEY,
  last_seq   bigint      NOT NULL CHECK (last_seq >= 0),
  last_hash  text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per committed writer batch. A writer that lost the connection while committing looks its
-- batch up here before retrying it, so an unacknowledged commit is never written twice.
CREATE TABLE audit_batches (
  batch_id     uuid        PRIMARY KEY,
  row_count    integer     NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now()
);

-- What retention removed: one stub per pruned row with its position and hashes (not its content),
-- so the chain through it still verifies. Written only by prune_delivered() below.
CREATE TABLE audit_pruned (
  chain_key   text        COLLATE "C" NOT NULL,
  seq         bigint      NOT NULL,
  audit_id    bigint      NOT NULL,
  session_id  text,
  message_id  text,
  outcome     text        NOT NULL,
  agent       text        NOT NULL,
  recorded_at timestamptz NOT NULL,
  prev_hash   text        NOT NULL,
  hash        text        NOT NULL,
  pruned_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_key, seq)
);

-- Guards against casual edits. They are not a security boundary (a superuser can disable triggers);
-- the hash chain is what makes such edits detectable.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Nested IFs: OLD and NEW are only safe to touch in the row-level case that uses them.
  IF TG_LEVEL = 'ROW' THEN
    IF TG_TABLE_NAME = 'audit_log' AND TG_OP = 'DELETE' THEN
      IF current_setting('agentbus.retention', true) = 'on' AND OLD.outcome = 'delivered' THEN
        RETURN OLD;
      END IF;
    ELSIF TG_TABLE_NAME = 'chain_heads' AND TG_OP = 'UPDATE' THEN
      IF NEW.chain_key = OLD.chain_key AND NEW.last_seq > OLD.last_seq THEN
        RETURN NEW;
      END IF;
    END IF;
  END IF;
  RAISE EXCEPTION 'agentbus: % on %.% is refused: the audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER chain_heads_forward_only BEFORE UPDATE OR DELETE ON chain_heads
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER chain_heads_no_truncate BEFORE TRUNCATE ON chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_pruned_append_only BEFORE UPDATE OR DELETE ON audit_pruned
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_pruned_no_truncate BEFORE TRUNCATE ON audit_pruned
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Retention: moves up to max_rows delivered rows recorded before cutoff into audit_pruned stubs, in
-- one statement. The transaction-local setting is the only thing that lets the guard pass a DELETE,
-- and only of delivered rows. Plain (not SECURITY DEFINER): it needs no privilege the caller lacks.
CREATE FUNCTION prune_delivered(cutoff timestamptz, max_rows integer) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  n integer;
BEGIN
  PERFORM set_config('agentbus.retention', 'on', true);
  WITH doomed AS (
    SELECT id FROM audit_log
    WHERE outcome = 'delivered' AND recorded_at < cutoff
    ORDER BY recorded_at
    LIMIT max_rows
    FOR UPDATE
  ), gone AS (
    DELETE FROM audit_log a USING doomed d WHERE a.id = d.id
    RETURNING a.chain_key, a.seq_in_chain, a.id, a.session_id, a.message_id, a.outcome, a.agent,
              a.recorded_at, a.prev_hash, a.hash
  )
  INSERT INTO audit_pruned (chain_key, seq, audit_id, session_id, message_id, outcome, agent, recorded_at, prev_hash, hash)
  SELECT chain_key, seq_in_chain, id, session_id, message_id, outcome, agent, recorded_at, prev_hash, hash FROM gone;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('agentbus.retention', 'off', true);
  RETURN n;
END $$;

-- One row per session (request): status, timings, final answer.
CREATE TABLE sessions (
  session_id  text        PRIMARY KEY,
  request_id  text,
  status      text        NOT NULL DEFAULT 'running',
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  answer      jsonb,
  last_seq    integer     NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_started_at ON sessions (started_at);
CREATE INDEX sessions_status ON sessions (status, started_at);

-- workflow_record content (DESIGN.md §3), one per finished session, with the columns queries filter on.
CREATE TABLE workflow_records (
  session_id  text        PRIMARY KEY,
  request_id  text        NOT NULL,
  status      text        NOT NULL,
  category    text,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  record      jsonb       NOT NULL,
  inserted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_records_window ON workflow_records (finished_at, session_id);
CREATE INDEX workflow_records_status ON workflow_records (status, finished_at);
CREATE INDEX workflow_records_category ON workflow_records (category, finished_at);
