"""Build the learner named by `learner.type`."""
from typing import Callable, Dict

import torch.nn as nn

from configs.configurations import BackpropConfig
from configs.errors import ConfigError
from src.algos.learner import Learner
from src.algos.optimizers import build_optimizer

LEARNERS: Dict[str, Callable[[nn.Module, BackpropConfig], Learner]] = {
    "backprop": lambda model, config: Learner(model, build_optimizer(model.parameters(), config)),
}


def learner_factory(model: nn.Module, config: BackpropConfig) -> Learner:
    """Return the learner that trains `model` as `config` says."""
    if config.type not in LEARNERS:
        raise ConfigError("learner.type", config.type, f"one of {sorted(LEARNERS)}")
    return LEARNERS[config.type](model, config)
