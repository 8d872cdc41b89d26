"""The one object every hook receives: what the run is, where it is, and how to log."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Mapping, NamedTuple, Optional

import torch
import torch.nn as nn

from src.algos.learner import Learner


class Split(NamedTuple):
    """A whole data split on the run's device: inputs (n, T) and targets (n,)."""

    inputs: torch.Tensor
    targets: torch.Tensor


@dataclass
class RunContext:
    """Shared state of one run. Plugins read it and call `log` and `request_stop`."""

    config: Any  # ExperimentConfig
    model: nn.Module
    learner: Learner
    train: Split
    test: Split
    run_dir: Path
    hook: Any  # the plugin manager's hook relay
    total_steps: int = 0
    step: int = 0  # optimizer steps completed
    epoch: int = 0
    metric_keys: FrozenSet[str] = frozenset()
    last_records: Dict[str, float] = field(default_factory=dict)
    stop_reason: Optional[str] = None

    @property
    def device(self) -> torch.device:
        return self.train.inputs.device

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.learner.optimizer

    def declare(self, keys: Iterable[str]) -> None:
        """Fix the set of metric keys this run may log (done by the trainer, once)."""
        self.metric_keys = frozenset(keys)

    def log(self, records: Mapping[str, float], step: Optional[int] = None) -> None:
        """Send `records` (declared key → number) at `step` (default: now) to every sink."""
        undeclared = records.keys() - self.metric_keys
        if undeclared:
            raise KeyError(f"metric keys {sorted(undeclared)} were not declared in declare_metrics")
        self.last_records.update(records)
        self.hook.on_records(ctx=self, step=self.step if step is None else step, records=records)

    def request_stop(self, reason: str) -> None:
        """Ask the trainer to stop after the current step; `reason` is reported."""
        self.stop_reason = reason
