-- The learning loop's system of record: which workflow records each memory batch summarised (so no
-- record is summarised twice), the batches themselves, and the queue of proposed rules with every
-- re-observation of their patterns.

-- Each record belongs to at most one batch, claimed in the transaction that names the batch.
ALTER TABLE workflow_records ADD COLUMN batch_id text;
CREATE INDEX workflow_records_unbatched ON workflow_records (finished_at, session_id) WHERE batch_id IS NULL;
CREATE INDEX workflow_records_by_batch ON workflow_records (batch_id, finished_at, session_id) WHERE batch_id IS NOT NULL;

CREATE TABLE memory_batches (
  batch_id      text        PRIMARY KEY,
  trigger       text        NOT NULL CHECK (trigger IN ('schedule', 'threshold', 'manual')),
  -- claiming: records are still being claimed; claimed: the window is closed; summarised: done.
  state         text        NOT NULL CHECK (state IN ('claiming', 'claimed', 'summarised')),
  -- The window: every record finished before cutoff that no earlier batch had claimed.
  cutoff        timestamptz NOT NULL,
  records       integer     NOT NULL DEFAULT 0,
  period_from   timestamptz,
  period_to     timestamptz,
  summary       jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  summarised_at timestamptz
);

-- Per-day counters for ids of the form <prefix>_<YYYYMMDD>_<NN>, so ids stay unique when two
-- batches (in two processes) run on the same day.
CREATE TABLE daily_ids (
  kind text    NOT NULL,
  day  text    NOT NULL,
  last integer NOT NULL,
  PRIMARY KEY (kind, day)
);

CREATE TABLE rule_proposals (
  rule_id           text             PRIMARY KEY CHECK (rule_id ~ '^rule_[0-9]{8}_[0-9]{2}$'),
  -- One proposal per pattern, ever: a pattern seen again is an observation of its proposal,
  -- whatever state that proposal is in (a rejected pattern is not proposed again).
  pattern_key       text             NOT NULL UNIQUE,
  state             text             NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'retired')),
  target_agent      text             NOT NULL,
  priority          text             NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
  confidence        double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  -- The rule as proposed: trigger, instruction, rationale, effect (evidence lives in `evidence`).
  rule              jsonb            NOT NULL,
  -- Evidence across every observation: occurrences summed, example sessions and batches merged.
  evidence          jsonb            NOT NULL,
  batch_id          text             NOT NULL,
  report_message_id text,
  observations      integer          NOT NULL DEFAULT 1,
  proposed_at       timestamptz      NOT NULL DEFAULT now(),
  last_observed_at  timestamptz      NOT NULL DEFAULT now(),
  updated_at        timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX rule_proposals_queue ON rule_proposals (state, target_agent, confidence DESC);

CREATE TABLE rule_observations (
  rule_id           text             NOT NULL REFERENCES rule_proposals (rule_id),
  batch_id          text             NOT NULL,
  report_message_id text,
  occurrences       integer          NOT NULL,
  confidence        double precision NOT NULL,
  evidence          jsonb            NOT NULL,
  observed_at       timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, batch_id)
);
