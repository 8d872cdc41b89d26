"""Shared fixtures: tiny, deterministic configs and a recording plugin."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from configs.configurations import ExperimentConfig
from configs.loading import load_experiment_config
from src.telemetry import hookimpl

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINT = REPO / "experiments" / "grokking" / "train_grokking.py"

TINY_OVERRIDES = [
    "data.p=11",
    "net.vocab_size=13",
    "net.d_model=16",
    "net.n_heads=2",
    "net.d_mlp=32",
    "net.n_layers=1",
    "training.batch_size=16",
    "training.epochs=2",
    "training.eval_every=3",
    "device=cpu",
]


def tiny_config(**sections: Dict[str, Any]) -> ExperimentConfig:
    """A validated config for a model and task small enough to train in milliseconds.

    Each keyword updates one section; a section with a `_target_` replaces it whole.
    """
    raw: Dict[str, Any] = {
        "device": "cpu",
        "data": {"p": 11},
        "net": {"vocab_size": 13, "d_model": 16, "n_heads": 2, "d_mlp": 32, "n_layers": 1},
        "training": {"batch_size": 16, "epochs": 2, "eval_every": 3},
        "telemetry": {"plugins": []},
    }
    for name, values in sections.items():
        merge = isinstance(values, dict) and "_target_" not in values
        raw[name] = {**raw.get(name, {}), **values} if merge else values
    return load_experiment_config(raw)


class Recorder:
    """Writes down every event it sees, with the step, as (event, step) pairs."""

    def __init__(self) -> None:
        self.events: List[Tuple[str, int]] = []
        self.records: List[Tuple[int, Dict[str, float]]] = []

    @hookimpl
    def configure(self, config: Any) -> None:
        self.events.append(("configure", -1))

    @hookimpl
    def declare_metrics(self, ctx: Any) -> List[str]:
        self.events.append(("declare_metrics", ctx.step))
        return []

    @hookimpl
    def on_run_start(self, ctx: Any) -> None:
        self.events.append(("on_run_start", ctx.step))

    @hookimpl
    def on_step_start(self, ctx: Any) -> None:
        self.events.append(("on_step_start", ctx.step))

    @hookimpl
    def on_after_backward(self, ctx: Any) -> None:
        assert all(p.grad is not None for p in ctx.model.parameters() if p.requires_grad)
        self.events.append(("on_after_backward", ctx.step))

    @hookimpl
    def on_step_end(self, ctx: Any, output: Any) -> None:
        self.events.append(("on_step_end", ctx.step))

    @hookimpl
    def on_eval_end(self, ctx: Any, metrics: Dict[str, float]) -> None:
        self.events.append(("on_eval_end", ctx.step))

    @hookimpl
    def on_records(self, step: int, records: Dict[str, float]) -> None:
        self.records.append((step, dict(records)))

    @hookimpl
    def on_exception(self, ctx: Any, error: BaseException) -> None:
        self.events.append(("on_exception", ctx.step))

    @hookimpl
    def on_run_end(self, ctx: Any, status: str) -> None:
        self.events.append((f"on_run_end:{status}", ctx.step))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def run_entry_point(args: List[str], cwd: Path, timeout: float = 240, **popen: Any) -> subprocess.CompletedProcess:
    """Run the real `train_grokking.py` in a subprocess, outputs under `cwd`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "1"}
    env.update(popen.pop("env", {}))
    return subprocess.run(
        [sys.executable, str(ENTRY_POINT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )
