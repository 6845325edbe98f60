# syntax=docker/dockerfile:1.7
# The one runtime image: gateway, triage, router and discovery are `mcpfleet serve <service>`.
# Non-root (uid 10001) and read-only-root-filesystem friendly: the only writable paths a pod
# needs are /tmp (HOME, MCPFLEET_DATA_DIR) and the catalog mount, both volumes.
#   docker build -t ghcr.io/shreck/mcpfleet-runtime:dev .
#   docker run --rm -p 8080:8080 ghcr.io/shreck/mcpfleet-runtime:dev   # gateway, embedded DB

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/mcpfleet
WORKDIR /src
COPY pyproject.toml README.md ./
COPY catalog ./catalog
COPY components ./components
COPY runtime ./runtime
COPY mcpfleet ./mcpfleet
# Without the `iac` extra: the compiler (Pulumi, ~100 MB) runs in CI, not in the pods.
RUN /opt/mcpfleet/bin/pip install . \
 && /opt/mcpfleet/bin/python -m compileall -q /opt/mcpfleet/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.source="https://github.com/shreck/mcpfleet" \
      org.opencontainers.image.description="mcpfleet runtime: MCP gateway, triage, router, discovery" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 mcpfleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin mcpfleet
COPY --from=build /opt/mcpfleet /opt/mcpfleet
# The shipped catalog as a default; in the cluster a ConfigMap is mounted over it.
COPY catalog/platform.yaml catalog/models.yaml /etc/mcpfleet/catalog/
COPY catalog/servers /etc/mcpfleet/catalog/servers
ENV PATH=/opt/mcpfleet/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MCPFLEET_CATALOG=/etc/mcpfleet/catalog \
    MCPFLEET_DATA_DIR=/tmp/mcpfleet
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080 8081 8082 8083
ENTRYPOINT ["mcpfleet"]
CMD ["serve", "gateway", "--host", "0.0.0.0"]
