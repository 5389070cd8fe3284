-- Virtual keys, users and teams (LiteLLM's LiteLLM_VerificationToken, LiteLLM_UserTable and
-- LiteLLM_TeamTable, renamed and trimmed), and the key owner on spend logs.
-- Times are UTC TEXT in fixed-width RFC 3339 with microseconds; JSON columns are TEXT.
ALTER TABLE spend_logs ADD COLUMN user_id TEXT;
CREATE INDEX IF NOT EXISTS spend_logs_user_id_start_time_idx ON spend_logs (user_id, start_time);

CREATE TABLE IF NOT EXISTS verification_tokens (
    token                 TEXT    NOT NULL PRIMARY KEY, -- sha256 hex of the key, never the key
    key_name              TEXT    NOT NULL DEFAULT '',  -- "sk-...abcd"
    key_alias             TEXT,
    spend                 REAL    NOT NULL DEFAULT 0,
    max_budget            REAL,
    soft_budget           REAL,
    budget_duration       TEXT,
    budget_reset_at       TEXT,
    expires               TEXT,
    models                TEXT    NOT NULL DEFAULT '[]',
    aliases               TEXT    NOT NULL DEFAULT '{}',
    metadata              TEXT    NOT NULL DEFAULT '{}',
    tags                  TEXT    NOT NULL DEFAULT '[]',
    rpm_limit             INTEGER,
    tpm_limit             INTEGER,
    max_parallel_requests INTEGER,
    user_id               TEXT,
    team_id               TEXT,
    blocked               INTEGER NOT NULL DEFAULT 0,
    allowed_routes        TEXT    NOT NULL DEFAULT '[]',
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
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
    max_budget      REAL,
    spend           REAL NOT NULL DEFAULT 0,
    models          TEXT NOT NULL DEFAULT '[]',
    budget_duration TEXT,
    budget_reset_at TEXT,
    tpm_limit       INTEGER,
    rpm_limit       INTEGER,
    metadata        TEXT NOT NULL DEFAULT '{}',
    teams           TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_user_email_idx ON users (user_email);
CREATE INDEX IF NOT EXISTS users_created_at_idx ON users (created_at, user_id);

CREATE TABLE IF NOT EXISTS teams (
    team_id               TEXT    NOT NULL PRIMARY KEY,
    team_alias            TEXT,
    members_with_roles    TEXT    NOT NULL DEFAULT '[]',
    max_budget            REAL,
    spend                 REAL    NOT NULL DEFAULT 0,
    models                TEXT    NOT NULL DEFAULT '[]',
    blocked               INTEGER NOT NULL DEFAULT 0,
    tpm_limit             INTEGER,
    rpm_limit             INTEGER,
    max_parallel_requests INTEGER,
    budget_duration       TEXT,
    budget_reset_at       TEXT,
    metadata              TEXT    NOT NULL DEFAULT '{}',
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS teams_created_at_idx ON teams (created_at, team_id);
