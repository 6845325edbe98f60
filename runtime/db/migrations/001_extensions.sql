-- pgvector: embeddings for query history, application contexts and tool descriptions.
CREATE EXTENSION IF NOT EXISTS vector;
