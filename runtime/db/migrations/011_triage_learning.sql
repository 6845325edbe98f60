-- What triage learns from: questions whose tool the user confirmed, and the models
-- trained at index build.

-- One row per confirmed question → tool pair: a tool call made through /api/v1/query
-- with the user's confirmation or a chosen tool, or a call of a tool that find_tools had
-- just proposed to the same client. Nearest neighbours join the tool score (memory).
CREATE TABLE triage_confirmations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question   text NOT NULL CHECK (question <> ''),
    embedding  vector({embedding_dim}) NOT NULL,
    server     text NOT NULL,
    tool       text NOT NULL,
    client     text,
    source     text NOT NULL CHECK (source IN ('query', 'find_tools', 'api')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX triage_confirmations_embedding ON triage_confirmations
    USING hnsw (embedding vector_ip_ops);
CREATE INDEX triage_confirmations_tool ON triage_confirmations (server, tool);

-- The trained scorer, calibrator and route model for one fleet (by fingerprint of every
-- tool document, the exemplars and the generator's version): a restart with the same
-- fleet loads it instead of training again. Old fingerprints are pruned on write.
CREATE TABLE triage_models (
    fingerprint text PRIMARY KEY,
    model       jsonb NOT NULL CHECK (jsonb_typeof(model) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
