"""Catalog proposals: turn a discovered server into a validated catalog entry and propose
it as a GitHub pull request or a branch in a local git repository, one per server.
"""

__all__: list[str] = []
