-- Per-user in-flight request cap (LiteLLM keeps max_parallel_requests on keys, teams and budgets;
-- we also enforce it per internal user, so the column lives on users too).
ALTER TABLE users ADD COLUMN max_parallel_requests INTEGER;
