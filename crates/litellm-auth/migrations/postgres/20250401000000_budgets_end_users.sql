-- Budget reservations, end users, budget objects, the global budget counter and job leases.
--
-- `reserved` holds the maximum cost of calls in flight plus the settled cost of calls whose
-- spend log is not written yet; a call is admitted while `spend + reserved < max_budget`.
ALTER TABLE verification_tokens ADD COLUMN reserved DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN reserved DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN reserved DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS users_budget_reset_at_idx ON users (budget_reset_at);
CREATE INDEX IF NOT EXISTS teams_budget_reset_at_idx ON teams (budget_reset_at);

-- LiteLLM_BudgetTable.
CREATE TABLE IF NOT EXISTS budgets (
    budget_id             TEXT NOT NULL PRIMARY KEY,
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    max_parallel_requests BIGINT,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    model_max_budget      JSONB NOT NULL DEFAULT '{}'::jsonb,
    budget_duration       TEXT,
    budget_reset_at       TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS budgets_budget_reset_at_idx ON budgets (budget_reset_at);

-- LiteLLM_EndUserTable: the `user` of a request (or x-litellm-end-user-id).
CREATE TABLE IF NOT EXISTS end_users (
    user_id               TEXT NOT NULL PRIMARY KEY,
    alias                 TEXT,
    spend                 DOUBLE PRECISION NOT NULL DEFAULT 0,
    reserved              DOUBLE PRECISION NOT NULL DEFAULT 0,
    allowed_model_region  TEXT,
    default_model         TEXT,
    budget_id             TEXT,
    blocked               BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS end_users_budget_id_idx ON end_users (budget_id);
CREATE INDEX IF NOT EXISTS end_users_created_at_idx ON end_users (created_at, user_id);

-- Proxy-wide counters; 'global' is litellm_settings.max_budget's, kept like the others.
CREATE TABLE IF NOT EXISTS budget_counters (
    id       TEXT NOT NULL PRIMARY KEY,
    spend    DOUBLE PRECISION NOT NULL DEFAULT 0,
    reserved DOUBLE PRECISION NOT NULL DEFAULT 0
);
INSERT INTO budget_counters (id, spend, reserved)
    SELECT 'global', COALESCE(SUM(spend), 0), 0 FROM spend_logs
    ON CONFLICT (id) DO NOTHING;

-- One row per background job: the replica holding an unexpired lease runs it.
CREATE TABLE IF NOT EXISTS job_leases (
    name       TEXT NOT NULL PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
