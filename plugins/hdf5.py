"""The `hdf5` sink: every record of a run in one HDF5 file, readable while it is written.

Datasets for every declared metric key are created at run start, then the file switches to
SWMR mode, so a second process can read it live (`h5py.File(path, "r", swmr=True)`), and a
writer killed at any moment leaves every flushed record readable. Records are buffered in
memory and written at each flush (default: every evaluation). When the run ends, however it
ends, the file is closed and its `status` attribute set. Layout: docs/hdf5_schema.md.
"""
import datetime
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import h5py
import numpy as np

from configs.loading import config_to_yaml
from src.telemetry import ConfigError, RunContext, hookimpl
from src.telemetry.hdf5_schema import LIBVER, METRICS_GROUP, RECORD_DTYPE, SCHEMA_VERSION


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _library_versions() -> Dict[str, str]:
    found = {"python": platform.python_version(), "hdf5": h5py.version.hdf5_version}
    for package in ("ranktrace", "torch", "h5py", "numpy", "pluggy", "hydra-core"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


class HDF5Plugin:
    """The built-in `hdf5` plugin; options under `telemetry.hdf5`."""

    def __init__(self) -> None:
        self.options: Any = None
        self.path: Optional[Path] = None
        self.file: Optional[h5py.File] = None
        self.datasets: Dict[str, h5py.Dataset] = {}
        self.pending: Dict[str, List[Tuple[int, float]]] = {}
        self.error: Optional[str] = None

    @hookimpl
    def configure(self, config: Any) -> None:
        opts = config.telemetry.hdf5
        if opts.flush_every_steps is not None and opts.flush_every_steps < 1:
            raise ConfigError("telemetry.hdf5.flush_every_steps", opts.flush_every_steps, "an integer >= 1, or null")
        self.options = opts

    @hookimpl
    def declare_metrics(self, ctx: RunContext) -> List[str]:
        self.path = ctx.run_dir / self.options.path
        if self.path.exists():
            raise ConfigError("telemetry.hdf5.path", str(self.path), "a path where no file exists yet (runs are never overwritten)")
        return []

    @hookimpl(tryfirst=True)
    def on_run_start(self, ctx: RunContext) -> None:
        keys = sorted(ctx.metric_keys)
        clashes = [key for key in keys if any(other.startswith(key + "/") for other in keys)]
        if clashes:
            raise ValueError(f"metric keys {clashes} are also groups of other keys; HDF5 cannot hold both")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = h5py.File(self.path, "w-", libver=LIBVER)
        self.file.attrs.update(
            {
                "schema_version": SCHEMA_VERSION,
                "config_yaml": config_to_yaml(ctx.config),
                "library_versions": json.dumps(_library_versions()),
                "start_time": _now(),
                "status": "running",
            }
        )
        metrics = self.file.create_group(METRICS_GROUP)
        for key in keys:
            self.datasets[key] = metrics.create_dataset(key, shape=(0,), maxshape=(None,), chunks=(1024,), dtype=RECORD_DTYPE)
        self.pending = {key: [] for key in keys}
        self.file.swmr_mode = True

    @hookimpl
    def on_records(self, step: int, records: Mapping[str, float]) -> None:
        if self.file is None:
            return
        for key, value in records.items():
            self.pending[key].append((step, value))

    @hookimpl
    def on_step_end(self, ctx: RunContext) -> None:
        every = self.options.flush_every_steps
        if every is not None and ctx.step % every == 0:
            self.flush()

    @hookimpl
    def on_eval_end(self) -> None:
        if self.options.flush_every_steps is None:
            self.flush()

    @hookimpl(trylast=True)
    def on_exception(self, error: BaseException) -> None:
        self.error = f"{type(error).__name__}: {error}"
        self.flush()

    @hookimpl(trylast=True)
    def on_run_end(self, ctx: RunContext, status: str) -> None:
        if self.file is None:
            return
        self.flush()
        self.file.close()
        self.file = None
        with h5py.File(self.path, "r+", libver=LIBVER) as closed:
            closed.attrs.update({"status": status, "end_time": _now(), "steps": ctx.step})
            if ctx.stop_reason:
                closed.attrs["stop_reason"] = ctx.stop_reason
            if self.error:
                closed.attrs["error"] = self.error

    def flush(self) -> None:
        """Append the buffered records to their datasets and make them visible to readers."""
        if self.file is None:
            return
        for key, rows in self.pending.items():
            if rows:
                dataset = self.datasets[key]
                start = dataset.shape[0]
                dataset.resize((start + len(rows),))
                dataset[start:] = np.array(rows, dtype=RECORD_DTYPE)
                rows.clear()
        self.file.flush()
