-- The triage tool index: one row per tool of every registered server, with the embedding
-- of its document (runtime/triage/documents.py). `digest` covers everything the document is
-- built from plus the embedding model, so a tool whose tools/list entry did not change
-- keeps its vector instead of being re-embedded. The vector is the mean of two unit
-- vectors (name, name + summary): compared by inner product, hence vector_ip_ops.
CREATE TABLE tool_index (
    server     text NOT NULL,
    tool       text NOT NULL,
    digest     text NOT NULL,
    model      text NOT NULL,
    document   text NOT NULL,
    embedding  vector({embedding_dim}) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, tool)
);

CREATE INDEX tool_index_embedding ON tool_index USING hnsw (embedding vector_ip_ops);
