"""mcpfleet: the command line that ties the catalog, the compiler and the runtime together."""

__all__ = ["__version__"]
__version__ = "0.1.0"
