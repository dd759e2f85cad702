"""The SDK's version, kept apart so pyproject.toml and the client read one value."""

__version__ = "0.1.0"
