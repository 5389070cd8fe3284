-- Daily tag spend (LiteLLM's LiteLLM_DailyTagSpend): daily_spend with one more dimension, the
-- request tag. A call adds its measures to one row per distinct tag it carries (request body
-- `metadata.tags` / `tags`, `x-litellm-tags`, its key's and its team's tags), upserted in the
-- same transaction that inserts the spend logs; untagged calls add nothing here. Sums over
-- several tags count a call once per tag. Spend logs written before this migration carry no
-- tags (request_tags was never filled), so there is nothing to backfill. Kept by retention.
CREATE TABLE IF NOT EXISTS daily_tag_spend (
    date                TEXT    NOT NULL,             -- "2025-01-31" (UTC)
    tag                 TEXT    NOT NULL,
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
    PRIMARY KEY (tag, date, api_key_hash, user_id, team_id, end_user, model, model_group, custom_llm_provider)
);
-- The primary key serves "one tag over a date range"; these serve "every tag over a date
-- range" (/tag/list, /tag/daily/activity without tags) and the per-key and per-user scopes.
CREATE INDEX IF NOT EXISTS daily_tag_spend_date_idx ON daily_tag_spend (date);
CREATE INDEX IF NOT EXISTS daily_tag_spend_api_key_hash_date_idx ON daily_tag_spend (api_key_hash, date);
CREATE INDEX IF NOT EXISTS daily_tag_spend_user_id_date_idx ON daily_tag_spend (user_id, date);
