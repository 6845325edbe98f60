-- What was asked and answered (the triage layer's semantic cache reads it), and stored
-- application context. HNSW rather than ivfflat: an ivfflat index built on an empty
-- table has no useful lists and poor recall; HNSW needs no training data.
CREATE TABLE query_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query         text NOT NULL,
    embedding     vector({embedding_dim}),          -- NULL when the query could not be embedded
    route         text NOT NULL,
    model         text,
    servers       text[] NOT NULL DEFAULT '{}',
    client        text,
    latency_ms    double precision NOT NULL DEFAULT 0,
    input_tokens  integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cost_usd      double precision NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    answer        text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX query_history_embedding ON query_history
    USING hnsw (embedding vector_cosine_ops);
CREATE INDEX query_history_created_at ON query_history (created_at);

CREATE TABLE app_contexts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app        text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    embedding  vector({embedding_dim}) NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app, title)
);

CREATE INDEX app_contexts_embedding ON app_contexts USING hnsw (embedding vector_cosine_ops);
