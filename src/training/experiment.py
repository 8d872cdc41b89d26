"""Wire one run together: plugins, data, model, learner, trainer."""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import torch

from configs.configurations import ExperimentConfig
from configs.errors import ConfigError
from src.algos.learner_factory import learner_factory
from src.data_loading.dataset_factory import dataset_factory
from src.models.model_factory import model_factory
from src.telemetry.plugin_manager import create_plugin_manager
from src.telemetry.run_context import RunContext, Split
from src.training.interrupts import sigterm_interrupts
from src.training.trainer import Trainer


@dataclass
class RunResult:
    """How a run ended and its last records."""

    status: str
    steps: int
    stop_reason: Optional[str]
    last_records: Dict[str, float]


def resolve_device(name: str) -> torch.device:
    """`auto` is the GPU when one is present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", name, "auto or cpu: this machine has no CUDA device")
    return torch.device(name)


def run_experiment(cfg: ExperimentConfig, run_dir: Path, extra_plugins: Mapping[str, Any] = {}) -> RunResult:
    """Train as `cfg` says, with its plugins (plus `extra_plugins`), writing into `run_dir`."""
    manager = create_plugin_manager(cfg.telemetry.plugins, extra_plugins)
    manager.hook.configure.call_historic(kwargs=dict(config=cfg))
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    train_set, test_set = dataset_factory(cfg.data)
    model = model_factory(cfg.net).to(device)
    ctx = RunContext(
        config=cfg,
        model=model,
        learner=learner_factory(model, cfg.learner, seed=cfg.seed),
        train=Split(train_set.inputs.to(device), train_set.targets.to(device)),
        test=Split(test_set.inputs.to(device), test_set.targets.to(device)),
        run_dir=Path(run_dir),
        hook=manager.hook,
    )
    with sigterm_interrupts():
        status = Trainer(ctx, manager, cfg.training, seed=cfg.seed).fit()
    return RunResult(status=status, steps=ctx.step, stop_reason=ctx.stop_reason, last_records=dict(ctx.last_records))
