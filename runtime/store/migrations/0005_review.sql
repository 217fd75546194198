-- 0005: the review side of the learning loop. Every approved rule is a sequence of immutable
-- versions (content + its hash); every decision on a rule is one row bound to the version and hash
-- it decided on; reviewers are accounts with scrypt-hashed passwords and server-side sessions.

-- Who proposed the rule (never allowed to approve it), which version is in force, and the share of
-- sessions it applies to while it is rolled out gradually.
ALTER TABLE rule_proposals ADD COLUMN proposed_by     text    NOT NULL DEFAULT 'learning_agent';
ALTER TABLE rule_proposals ADD COLUMN active_version  integer;
ALTER TABLE rule_proposals ADD COLUMN rollout_percent integer NOT NULL DEFAULT 100 CHECK (rollout_percent BETWEEN 1 AND 100);
ALTER TABLE rule_proposals ADD COLUMN guardrail       jsonb;

CREATE TABLE rule_versions (
  rule_id      text        NOT NULL REFERENCES rule_proposals (rule_id),
  version      integer     NOT NULL CHECK (version >= 1),
  -- target_agent, trigger_condition, instruction, rationale, effect, priority, confidence_score.
  content      jsonb       NOT NULL,
  -- sha256 of the canonical JSON of the rule's text and effect (runtime/rules/content.ts).
  content_hash text        NOT NULL CHECK (content_hash ~ '^[a-f0-9]{64}$'),
  -- proposed: the learning agent's text; edited: a reviewer's edit; rollback: a copy of an earlier version.
  origin       text        NOT NULL CHECK (origin IN ('proposed', 'edited', 'rollback')),
  based_on     integer,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL,
  approved_by  text,
  approved_at  timestamptz,
  PRIMARY KEY (rule_id, version)
);

CREATE TABLE rule_decisions (
  decision_id     bigserial   PRIMARY KEY,
  rule_id         text        NOT NULL REFERENCES rule_proposals (rule_id),
  action          text        NOT NULL CHECK (action IN ('approve', 'reject', 'retire', 'rollback', 'edit', 'promote', 'auto_retire')),
  version         integer,
  content_hash    text,
  actor           text        NOT NULL,
  reason          text,
  -- The state and version before and after, and the fields an edit changed.
  change          jsonb       NOT NULL,
  -- The file the decision wrote (repo-relative) and its sha256; null when it removed the file or wrote none.
  file_path       text,
  file_sha256     text,
  rollout_percent integer,
  decided_at      timestamptz NOT NULL
);
CREATE INDEX rule_decisions_by_rule ON rule_decisions (rule_id, decision_id);

-- Rule decisions are their own audit chain ('_rules'), so `agentbus audit verify` covers them.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_outcome_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('published', 'delivered', 'rejected', 'dead_lettered', 'completed', 'rule_decision'));

CREATE TABLE admin_accounts (
  name       text        PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.-]{2,63}$'),
  role       text        NOT NULL CHECK (role IN ('viewer', 'reviewer')),
  -- scrypt$N$r$p$<salt b64>$<hash b64>
  password   text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled   boolean     NOT NULL DEFAULT false
);

CREATE TABLE admin_sessions (
  -- sha256 of the cookie's random id: a leaked table does not hand out sessions.
  id_hash    text        PRIMARY KEY,
  account    text        NOT NULL REFERENCES admin_accounts (name) ON DELETE CASCADE,
  csrf_token text        NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);
