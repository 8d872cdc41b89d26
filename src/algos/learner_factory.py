"""Build the learner named by `learner.type`."""
from typing import Callable, Dict, Tuple

import torch.nn as nn

from configs.configurations import BackpropConfig, ContinuousBackpropConfig, RRContinuousBackpropConfig
from configs.errors import ConfigError
from src.algos.continual_backprop import ContinuousBackpropLearner
from src.algos.learner import Learner
from src.algos.optimizers import build_optimizer
from src.algos.rr_continual_backprop import RRContinuousBackpropLearner

LEARNERS: Dict[str, Tuple[type, Callable[..., Learner]]] = {
    "backprop": (BackpropConfig, lambda model, optimizer, config, seed: Learner(model, optimizer)),
    "cbp": (ContinuousBackpropConfig, ContinuousBackpropLearner),
    "rr_cbp": (RRContinuousBackpropConfig, RRContinuousBackpropLearner),
}


def learner_factory(model: nn.Module, config: BackpropConfig, seed: int = 0) -> Learner:
    """Return the learner that trains `model` as `config` says (`seed` drives its own draws)."""
    known = [name for name, (config_type, _) in LEARNERS.items() if type(config) is config_type]
    if config.type not in known:
        raise ConfigError("learner.type", config.type, f"one of {known} for {type(config).__name__}")
    return LEARNERS[config.type][1](model, build_optimizer(model.parameters(), config), config, seed)
