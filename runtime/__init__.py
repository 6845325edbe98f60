"""The services that run in the cluster (and on one laptop): gateway, triage, router, discovery.

Knows FastAPI, the MCP SDK, PostgreSQL and the model SDKs; never Pulumi.
"""

__all__: list[str] = []
