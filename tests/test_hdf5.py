"""The run file: contents, attributes, live reading, and what survives kills and failures."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import pytest

from configs.errors import ConfigError
from configs.loading import load_experiment_config
from src.analysis import load_run
from src.telemetry import hookimpl
from src.training.experiment import run_experiment
from tests.conftest import ENTRY_POINT, TINY_OVERRIDES, tiny_config

SINKS = {"plugins": ["rank", "hdf5"], "rank": {"every": 4, "probe_size": 16}}
LONG_RUN = [*TINY_OVERRIDES, "training.epochs=100000", "training.eval_every=5", "telemetry.plugins=[hdf5]"]


def test_round_trip_keeps_every_record_with_its_own_steps(tmp_path, recorder):
    cfg = tiny_config(telemetry=SINKS)
    run_experiment(cfg, tmp_path, extra_plugins={"r": recorder})
    run = load_run(tmp_path / "run.h5")
    expected = {}
    for step, records in recorder.records:
        for key, value in records.items():
            expected.setdefault(key, []).append((step, value))
    assert set(run.series) == set(expected)
    for key, rows in expected.items():
        frame = run.series[key]
        assert list(zip(frame["step"], frame["value"])) == rows, key
    assert list(run.series["train/loss"]["step"]) == list(range(1, 9))
    assert list(run.series["eval/test_acc"]["step"]) == [0, 3, 6, 8]
    assert list(run.series["rank/layers.0.mlp.0/grad/frobenius_norm"]["step"]) == [0, 4]


def test_attributes_hold_config_status_and_versions(tmp_path):
    cfg = tiny_config(telemetry=SINKS, seed=7)
    run_experiment(cfg, tmp_path)
    with h5py.File(tmp_path / "run.h5", "r") as file:
        attrs = dict(file.attrs)
    assert attrs["status"] == "finished" and attrs["schema_version"] == 1 and attrs["steps"] == 8
    assert attrs["start_time"] <= attrs["end_time"]
    assert {"torch", "h5py", "numpy", "python"} <= set(json.loads(attrs["library_versions"]))
    assert load_experiment_config(load_run(tmp_path / "run.h5").config) == cfg


def test_an_existing_run_file_is_never_overwritten(tmp_path, recorder):
    (tmp_path / "run.h5").write_bytes(b"an earlier run")
    with pytest.raises(ConfigError, match="telemetry.hdf5.path"):
        run_experiment(tiny_config(telemetry=SINKS), tmp_path, extra_plugins={"r": recorder})
    assert (tmp_path / "run.h5").read_bytes() == b"an earlier run"
    assert not any(event == "on_run_start" for event, _ in recorder.events)


class FailAt:
    @hookimpl
    def on_step_end(self, ctx: Any) -> None:
        if ctx.step == 6:
            raise RuntimeError("plugin bug")


def test_an_exception_marks_the_file_failed_and_keeps_the_data(tmp_path):
    with pytest.raises(RuntimeError, match="plugin bug"):
        run_experiment(tiny_config(telemetry=SINKS), tmp_path, extra_plugins={"fail": FailAt()})
    with h5py.File(tmp_path / "run.h5", "r") as file:  # plain h5py opens it
        assert file.attrs["status"] == "failed" and "plugin bug" in file.attrs["error"]
    run = load_run(tmp_path / "run.h5")
    assert list(run.series["train/loss"]["step"]) == [1, 2, 3, 4, 5, 6]
    assert list(run.series["eval/test_acc"]["step"]) == [0, 3]  # the step-6 evaluation never ran


def start_writer(run_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ENTRY_POINT), *LONG_RUN, *extra, f"hydra.run.dir={run_dir}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows_when_at_least(path: Path, key: str, count: int, writer: subprocess.Popen, timeout: float = 60.0) -> int:
    """Poll the live file until series `key` holds `count` rows; return how many it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert writer.poll() is None, writer.stderr.read()
        if path.exists():
            try:
                rows = len(load_run(path).series.get(key, ()))
            except (OSError, KeyError):  # the file exists but is not yet in SWMR mode
                rows = 0
            if rows >= count:
                return rows
        time.sleep(0.05)
    raise AssertionError(f"{key} never reached {count} rows")


def test_a_live_reader_sees_data_grow_and_sigterm_gives_interrupted(tmp_path):
    writer = start_writer(tmp_path)
    try:
        path = tmp_path / "run.h5"
        first = rows_when_at_least(path, "eval/test_acc", 3, writer)
        second = rows_when_at_least(path, "eval/test_acc", first + 3, writer)
        assert second > first
        writer.send_signal(signal.SIGTERM)
        writer.wait(timeout=60)
    finally:
        writer.kill()
    with h5py.File(path, "r") as file:  # closed cleanly: plain h5py opens it
        assert file.attrs["status"] == "interrupted"
    assert len(load_run(path).series["eval/test_acc"]) >= second


def test_sigkill_leaves_every_flushed_record_readable(tmp_path):
    writer = start_writer(tmp_path, "telemetry.hdf5.flush_every_steps=2")
    path = tmp_path / "run.h5"
    try:
        seen = rows_when_at_least(path, "train/loss", 40, writer)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        writer.kill()
    run = load_run(path)
    assert run.status == "running"  # the writer never closed it
    steps = list(run.series["train/loss"]["step"])
    assert len(steps) >= seen and steps == list(range(1, len(steps) + 1))
    with h5py.File(path, "r", swmr=True) as file:  # the documented plain-h5py read
        assert len(file["metrics/train/loss"]) == len(steps)
