"""Find plugins by name, register them in a fixed order, and call hooks with isolation.

Built-in and third-party plugins are found the same way: entry points of the group
`ranktrace` (this project's own `pyproject.toml` lists the built-ins). Only the plugins named
in `telemetry.plugins` are loaded, so what runs is exactly what the config says.
"""
import inspect
import logging
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import pluggy

from configs.errors import ConfigError
from src.telemetry import hookspecs

ENTRY_POINT_GROUP = "ranktrace"
log = logging.getLogger(__name__)


def installed_plugins() -> Dict[str, EntryPoint]:
    """Every plugin that installed packages offer, by name."""
    found: Dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found and found[entry.name].value != entry.value:
            raise RuntimeError(
                f"two installed plugins are named {entry.name!r}: {found[entry.name].value} and {entry.value}"
            )
        found[entry.name] = entry
    return found


def _instantiate(obj: Any) -> Any:
    """A class is instantiated without arguments; a module or object is used as it is."""
    return obj() if inspect.isclass(obj) else obj


def create_plugin_manager(names: Sequence[str], extra: Mapping[str, Any] = {}) -> pluggy.PluginManager:
    """A manager with the named plugins plus the `extra` name → plugin objects (tests, notebooks).

    Hooks run in the order of `names`, then the extra plugins not named there; a hook
    implementation that no spec knows is an error.
    """
    available: Dict[str, Any] = {**installed_plugins(), **extra}
    names = [*names, *(name for name in extra if name not in names)]
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ConfigError("telemetry.plugins", list(names), f"plugins from {sorted(available)} (unknown: {unknown})")
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name in reversed(names):  # pluggy calls the last registered first
        found = available[name]
        plugin = found.load() if isinstance(found, EntryPoint) else found
        manager.register(_instantiate(plugin), name=name)
    manager.check_pending()
    return manager


def call_isolated(manager: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> List[Tuple[str, BaseException]]:
    """Call every implementation of `hook_name`, even after one raises; return the failures.

    Teardown hooks (`on_exception`, `on_run_end`) go through here so that one faulty plugin
    cannot keep a sink from closing its file.
    """
    failures: List[Tuple[str, BaseException]] = []
    for impl in reversed(getattr(manager.hook, hook_name).get_hookimpls()):
        try:
            impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception as error:  # noqa: BLE001 - reported below, then re-raised by the caller
            log.error("plugin %r failed in %s: %r", impl.plugin_name, hook_name, error)
            failures.append((impl.plugin_name, error))
    return failures
