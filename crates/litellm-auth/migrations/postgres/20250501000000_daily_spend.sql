-- Daily spend aggregates (LiteLLM's LiteLLM_DailyUserSpend / DailyTeamSpend, as one table): one
-- row per UTC day and (key, user, team, end user, model, model group, provider), upserted in the
-- same transaction that inserts the spend logs, so reports read these rows and never scan
-- spend_logs. Dimensions are '' when absent (NOT NULL, so the primary key is a real key).
-- The rows are kept when retention deletes old spend logs.
CREATE TABLE IF NOT EXISTS daily_spend (
    date                TEXT    NOT NULL,             -- "2025-01-31" (UTC)
    api_key_hash        TEXT    NOT NULL DEFAULT '',
    user_id             TEXT    NOT NULL DEFAULT '',
    team_id             TEXT    NOT NULL DEFAULT '',
    end_user            TEXT    NOT NULL DEFAULT '',
    model               TEXT    NOT NULL DEFAULT '',
    model_group         TEXT    NOT NULL DEFAULT '',
    custom_llm_provider TEXT    NOT NULL DEFAULT '',
    spend               DOUBLE PRECISION NOT NULL DEFAULT 0,
    prompt_tokens       BIGINT  NOT NULL DEFAULT 0,
    completion_tokens   BIGINT  NOT NULL DEFAULT 0,
    total_tokens        BIGINT  NOT NULL DEFAULT 0,
    api_requests        BIGINT  NOT NULL DEFAULT 0,
    successful_requests BIGINT  NOT NULL DEFAULT 0,
    failed_requests     BIGINT  NOT NULL DEFAULT 0,
    cache_hits          BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (date, api_key_hash, user_id, team_id, end_user, model, model_group, custom_llm_provider)
);
CREATE INDEX IF NOT EXISTS daily_spend_api_key_hash_date_idx ON daily_spend (api_key_hash, date);
CREATE INDEX IF NOT EXISTS daily_spend_user_id_date_idx ON daily_spend (user_id, date);
CREATE INDEX IF NOT EXISTS daily_spend_team_id_date_idx ON daily_spend (team_id, date);
CREATE INDEX IF NOT EXISTS daily_spend_end_user_date_idx ON daily_spend (end_user, date);
CREATE INDEX IF NOT EXISTS daily_spend_model_group_date_idx ON daily_spend (model_group, date);

-- Spend logs written before this table existed.
INSERT INTO daily_spend (date, api_key_hash, user_id, team_id, end_user, model, model_group,
    custom_llm_provider, spend, prompt_tokens, completion_tokens, total_tokens, api_requests,
    successful_requests, failed_requests, cache_hits)
SELECT to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD'), api_key_hash, COALESCE(user_id, ''), COALESCE(team_id, ''),
    COALESCE(end_user, ''), model, model_group, custom_llm_provider, SUM(spend),
    SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens), COUNT(*),
    SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'success' THEN 0 ELSE 1 END),
    SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END)
FROM spend_logs
GROUP BY to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD'), api_key_hash, COALESCE(user_id, ''), COALESCE(team_id, ''),
    COALESCE(end_user, ''), model, model_group, custom_llm_provider;

-- /spend/logs filters by model (the model group) and date range together with the other
-- filters; retention deletes by start_time (spend_logs_start_time_idx).
CREATE INDEX IF NOT EXISTS spend_logs_model_start_time_idx ON spend_logs (model, start_time);
