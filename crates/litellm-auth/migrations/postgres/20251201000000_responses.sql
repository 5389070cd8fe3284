-- Stored Responses API answers (`/v1/responses` with `store`, the default): what
-- `GET /v1/responses/{id}`, `.../input_items` and `previous_response_id` read, for the
-- translated providers. Scoped to the key that made them (`owner`: its SHA-256).
CREATE TABLE IF NOT EXISTS responses (
    response_id TEXT        NOT NULL PRIMARY KEY,
    owner       TEXT        NOT NULL,
    response    JSONB       NOT NULL,
    input_items JSONB       NOT NULL,
    history     JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_created_at_idx ON responses (created_at);
