"""Finding, ordering and checking plugins with a real pluggy manager."""
import textwrap
from pathlib import Path
from typing import Any, List

import pluggy
import pytest

from configs.errors import ConfigError
from src.telemetry import hookimpl
from src.telemetry.plugin_manager import create_plugin_manager, installed_plugins
from src.training.experiment import run_experiment
from tests.conftest import tiny_config


def write_entry_point_package(root: Path) -> None:
    """A third-party plugin package as pip would install it: a module and its dist-info."""
    (root / "ranktrace_demo_plugin.py").write_text(
        textwrap.dedent(
            '''
            from src.telemetry import hookimpl

            class DemoPlugin:
                @hookimpl
                def on_run_end(self, ctx, status):
                    (ctx.run_dir / "demo_plugin_saw.txt").write_text(f"{status} {ctx.step}")
            '''
        )
    )
    info = root / "ranktrace_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ranktrace-demo-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ranktrace]\ndemo = ranktrace_demo_plugin:DemoPlugin\n")


def test_builtin_plugins_come_from_the_entry_point_group():
    assert "console" in installed_plugins()


def test_third_party_entry_point_plugin_is_found_and_runs(tmp_path, monkeypatch):
    write_entry_point_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "demo" in installed_plugins()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run_experiment(tiny_config(telemetry={"plugins": ["demo"]}), run_dir)
    assert (run_dir / "demo_plugin_saw.txt").read_text() == "finished 8"


def test_unknown_plugin_lists_the_available_ones():
    with pytest.raises(ConfigError, match=r"telemetry.plugins=\['console', 'nope'\].*'console'.*unknown: \['nope'\]"):
        create_plugin_manager(["console", "nope"])


class Misspelled:
    @hookimpl
    def on_step_ends(self, ctx: Any) -> None:
        """A typo: no such hook."""


def test_misspelled_hook_fails_at_start_up():
    with pytest.raises(pluggy.PluginValidationError, match="on_step_ends"):
        create_plugin_manager([], extra={"typo": Misspelled()})


class Named:
    def __init__(self, name: str, calls: List[str]) -> None:
        self.name, self.calls = name, calls

    @hookimpl
    def on_step_start(self) -> None:
        self.calls.append(self.name)


@pytest.mark.parametrize("order", [["a", "b", "c"], ["c", "a", "b"]])
def test_hooks_run_in_the_configured_order(order):
    calls: List[str] = []
    manager = create_plugin_manager(order, extra={name: Named(name, calls) for name in "abc"})
    manager.hook.on_step_start(ctx=None)
    assert calls == order
