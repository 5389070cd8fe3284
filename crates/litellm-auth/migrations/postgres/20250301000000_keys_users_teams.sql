-- Virtual keys, users and teams (LiteLLM's LiteLLM_VerificationToken, LiteLLM_UserTable and
-- LiteLLM_TeamTable, renamed and trimmed), and the key owner on spend logs.
-- Times are TIMESTAMPTZ; JSON columns are JSONB.
ALTER TABLE spend_logs ADD COLUMN user_id TEXT;
CREATE INDEX IF NOT EXISTS spend_logs_user_id_start_time_idx ON spend_logs (user_id, start_time);

CREATE TABLE IF NOT EXISTS verification_tokens (
    token                 TEXT    NOT NULL PRIMARY KEY, -- sha256 hex of the key, never the key
    key_name              TEXT    NOT NULL DEFAULT '',  -- "sk-...abcd"
    key_alias             TEXT,
    spend                 DOUBLE PRECISION    NOT NULL DEFAULT 0,
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    budget_duration       TEXT,
    budget_reset_at       TIMESTAMPTZ,
    expires               TIMESTAMPTZ,
    models                JSONB   NOT NULL DEFAULT '[]'::jsonb,
    aliases               JSONB   NOT NULL DEFAULT '{}'::jsonb,
    metadata              JSONB   NOT NULL DEFAULT '{}'::jsonb,
    tags                  JSONB   NOT NULL DEFAULT '[]'::jsonb,
    rpm_limit             BIGINT,
    tpm_limit             BIGINT,
    max_parallel_requests BIGINT,
    user_id               TEXT,
    team_id               TEXT,
    blocked               BOOLEAN NOT NULL DEFAULT FALSE,
    allowed_routes        JSONB   NOT NULL DEFAULT '[]'::jsonb,
    created_at            TIMESTAMPTZ    NOT NULL,
    updated_at            TIMESTAMPTZ    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS verification_tokens_key_alias_idx ON verification_tokens (key_alias);
CREATE INDEX IF NOT EXISTS verification_tokens_user_id_idx ON verification_tokens (user_id);
CREATE INDEX IF NOT EXISTS verification_tokens_team_id_idx ON verification_tokens (team_id);
CREATE INDEX IF NOT EXISTS verification_tokens_created_at_idx ON verification_tokens (created_at, token);
CREATE INDEX IF NOT EXISTS verification_tokens_budget_reset_at_idx ON verification_tokens (budget_reset_at);

CREATE TABLE IF NOT EXISTS users (
    user_id         TEXT NOT NULL PRIMARY KEY,
    user_email      TEXT,
    user_alias      TEXT,
    user_role       TEXT NOT NULL DEFAULT 'internal_user',
    max_budget      DOUBLE PRECISION,
    spend           DOUBLE PRECISION NOT NULL DEFAULT 0,
    models          JSONB NOT NULL DEFAULT '[]'::jsonb,
    budget_duration TEXT,
    budget_reset_at TIMESTAMPTZ,
    tpm_limit       BIGINT,
    rpm_limit       BIGINT,
    metadata        JSONB NOT NULL DEFAULT '{}'::jsonb,
    teams           JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS users_user_email_idx ON users (user_email);
CREATE INDEX IF NOT EXISTS users_created_at_idx ON users (created_at, user_id);

CREATE TABLE IF NOT EXISTS teams (
    team_id               TEXT    NOT NULL PRIMARY KEY,
    team_alias            TEXT,
    members_with_roles    JSONB   NOT NULL DEFAULT '[]'::jsonb,
    max_budget            DOUBLE PRECISION,
    spend                 DOUBLE PRECISION    NOT NULL DEFAULT 0,
    models                JSONB   NOT NULL DEFAULT '[]'::jsonb,
    blocked               BOOLEAN NOT NULL DEFAULT FALSE,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    max_parallel_requests BIGINT,
    budget_duration       TEXT,
    budget_reset_at       TIMESTAMPTZ,
    metadata              JSONB   NOT NULL DEFAULT '{}'::jsonb,
    created_at            TIMESTAMPTZ    NOT NULL,
    updated_at            TIMESTAMPTZ    NOT NULL
);
CREATE INDEX IF NOT EXISTS teams_created_at_idx ON teams (created_at, team_id);
