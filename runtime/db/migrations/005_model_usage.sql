-- Every model call the router made, for cost accounting and daily budgets.
CREATE TABLE model_usage (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    model         text NOT NULL,
    provider      text NOT NULL,
    task_type     text NOT NULL,
    input_tokens  integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cost_usd      double precision NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    latency_ms    double precision NOT NULL DEFAULT 0,
    status        text NOT NULL,
    error         text
);

CREATE INDEX model_usage_at ON model_usage (at);
CREATE INDEX model_usage_model_at ON model_usage (model, at);
