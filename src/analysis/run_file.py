"""Read a run file into pandas, also while it is written or after its writer was killed."""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Union

import h5py
import pandas as pd
from omegaconf import OmegaConf

from src.telemetry.hdf5_schema import METRICS_GROUP


@dataclass
class Run:
    """One run: its config, its root attributes and one DataFrame (step, value) per metric key."""

    path: Path
    config: Dict[str, Any]
    attrs: Dict[str, Any]
    series: Dict[str, pd.DataFrame]

    @property
    def status(self) -> str:
        return self.attrs.get("status", "unknown")


def _open(path: Path) -> h5py.File:
    """Plain read; a file still open for SWMR writing (live, or its writer killed) needs swmr=True."""
    try:
        return h5py.File(path, "r")
    except OSError:
        return h5py.File(path, "r", swmr=True)


def load_run(path: Union[str, Path]) -> Run:
    """Every series of the run file at `path`, with its config and attributes."""
    path = Path(path)
    series: Dict[str, pd.DataFrame] = {}
    with _open(path) as file:
        attrs = {key: (value.decode() if isinstance(value, bytes) else value) for key, value in file.attrs.items()}

        def read(name: str, node: Any) -> None:
            if isinstance(node, h5py.Dataset):
                rows = node[()]
                series[name] = pd.DataFrame({"step": rows["step"], "value": rows["value"]})

        file[METRICS_GROUP].visititems(read)
    config = OmegaConf.to_container(OmegaConf.create(attrs.get("config_yaml", "{}")))
    return Run(path=path, config=config, attrs=attrs, series=series)
