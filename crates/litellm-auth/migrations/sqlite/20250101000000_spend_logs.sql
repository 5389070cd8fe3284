-- Spend logs: one row per proxied call (LiteLLM's LiteLLM_SpendLogs, renamed and trimmed).
-- Times are UTC TEXT in fixed-width RFC 3339 with microseconds ("2025-01-31T12:00:00.123456Z"),
-- so they sort correctly as text and SQLite's date functions read them.
CREATE TABLE IF NOT EXISTS spend_logs (
    request_id            TEXT    NOT NULL PRIMARY KEY,
    call_type             TEXT    NOT NULL,
    api_key_hash          TEXT    NOT NULL DEFAULT '',
    spend                 REAL    NOT NULL DEFAULT 0,
    prompt_tokens         INTEGER NOT NULL DEFAULT 0,
    completion_tokens     INTEGER NOT NULL DEFAULT 0,
    total_tokens          INTEGER NOT NULL DEFAULT 0,
    start_time            TEXT    NOT NULL,
    end_time              TEXT    NOT NULL,
    completion_start_time TEXT,
    model                 TEXT    NOT NULL DEFAULT '',
    model_id              TEXT    NOT NULL DEFAULT '',
    model_group           TEXT    NOT NULL DEFAULT '',
    custom_llm_provider   TEXT    NOT NULL DEFAULT '',
    api_base              TEXT    NOT NULL DEFAULT '',
    "user"                TEXT,
    end_user              TEXT,
    team_id               TEXT,
    metadata              TEXT    NOT NULL DEFAULT '{}',
    request_tags          TEXT    NOT NULL DEFAULT '[]',
    cache_hit             INTEGER NOT NULL DEFAULT 0,
    status                TEXT    NOT NULL DEFAULT 'success'
);

CREATE INDEX IF NOT EXISTS spend_logs_start_time_idx ON spend_logs (start_time);
CREATE INDEX IF NOT EXISTS spend_logs_api_key_hash_start_time_idx ON spend_logs (api_key_hash, start_time);
CREATE INDEX IF NOT EXISTS spend_logs_model_group_start_time_idx ON spend_logs (model_group, start_time);
CREATE INDEX IF NOT EXISTS spend_logs_team_id_start_time_idx ON spend_logs (team_id, start_time);
CREATE INDEX IF NOT EXISTS spend_logs_end_user_start_time_idx ON spend_logs (end_user, start_time);
