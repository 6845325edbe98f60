"""The catalog: the YAML an operator edits, its schemas, and the typed loader for it.

Imports neither Pulumi, FastAPI, MCP nor psycopg, so every other part can depend on it.
"""

from catalog.loader import check_catalog, load_catalog
from catalog.model import (
    Catalog,
    ClusterApiServer,
    HttpServer,
    Model,
    ModelsFile,
    Platform,
    RemoteServer,
    SecretRef,
    Server,
    StdioServer,
    parse_duration,
    parse_size,
)
from catalog.problems import CatalogError, Problem
from catalog.writer import write_server

__all__ = [
    "Catalog",
    "CatalogError",
    "ClusterApiServer",
    "HttpServer",
    "Model",
    "ModelsFile",
    "Platform",
    "Problem",
    "RemoteServer",
    "SecretRef",
    "Server",
    "StdioServer",
    "check_catalog",
    "load_catalog",
    "parse_duration",
    "parse_size",
    "write_server",
]
