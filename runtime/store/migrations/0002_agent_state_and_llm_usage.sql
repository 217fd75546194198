-- 0002: durable per-session agent state, and LLM token usage with a per-session running total.

-- What an agent keeps between messages of one session (e.g. the dispatch agent's plan progress).
-- Updated under SELECT ... FOR UPDATE, so deliveries handled concurrently for one session serialise.
CREATE TABLE agent_state (
  agent      text        NOT NULL,
  session_id text        NOT NULL,
  key        text        NOT NULL,
  value      jsonb       NOT NULL,
  version    integer     NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent, session_id, key)
);

-- One row per LLM call that a message made; recorded even when the call's output was unusable.
CREATE TABLE llm_usage (
  id            bigserial   PRIMARY KEY,
  session_id    text        NOT NULL,
  message_id    text        NOT NULL,
  agent         text        NOT NULL,
  provider      text        NOT NULL,
  model         text        NOT NULL,
  input_tokens  integer     NOT NULL CHECK (input_tokens >= 0),
  output_tokens integer     NOT NULL CHECK (output_tokens >= 0),
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_usage_session ON llm_usage (session_id);
CREATE INDEX llm_usage_message ON llm_usage (message_id);

-- Running total for the per-session token budget (kept with the usage row, in one transaction).
ALTER TABLE sessions ADD COLUMN tokens_used integer NOT NULL DEFAULT 0;

-- Why a session failed when it ended in the dead-letter queue (cleared if a replay completes it).
ALTER TABLE sessions ADD COLUMN error jsonb;
