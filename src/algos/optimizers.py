"""The optimizer named by `learner.opt`."""
from typing import Iterable

import torch

from configs.configurations import BackpropConfig
from configs.errors import ConfigError

OPTIMIZERS = ("adamw", "adam", "sgd")


def build_optimizer(params: Iterable[torch.nn.Parameter], config: BackpropConfig) -> torch.optim.Optimizer:
    """AdamW, Adam or SGD with the learner's step size, weight decay, betas and momentum."""
    if config.opt == "adamw":
        return torch.optim.AdamW(params, lr=config.step_size, weight_decay=config.weight_decay, betas=tuple(config.betas))
    if config.opt == "adam":
        return torch.optim.Adam(params, lr=config.step_size, weight_decay=config.weight_decay, betas=tuple(config.betas))
    if config.opt == "sgd":
        return torch.optim.SGD(params, lr=config.step_size, weight_decay=config.weight_decay, momentum=config.momentum)
    raise ConfigError("learner.opt", config.opt, f"one of {list(OPTIMIZERS)}")
