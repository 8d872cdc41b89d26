"""The public API for plugins: `hookimpl`, `RunContext`, `ConfigError`, layer selection, rank math."""
from configs.errors import ConfigError
from src.telemetry.hookspecs import hookimpl
from src.telemetry.run_context import RunContext, Split

__all__ = ["ConfigError", "RunContext", "Split", "hookimpl"]
