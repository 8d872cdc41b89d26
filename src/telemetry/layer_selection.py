"""Pick `nn.Linear` layers by glob patterns over `named_modules()` names."""
from fnmatch import fnmatchcase
from typing import Dict, Sequence

import torch.nn as nn

from configs.errors import ConfigError


def linear_layers(model: nn.Module) -> Dict[str, nn.Linear]:
    """Every `nn.Linear` of the model (subclasses included), by its `named_modules()` name."""
    return {name: module for name, module in model.named_modules() if isinstance(module, nn.Linear)}


def select_linear_layers(model: nn.Module, patterns: Sequence[str], key: str = "layers") -> Dict[str, nn.Linear]:
    """The Linear layers matching any pattern (`*` also crosses dots), in model order.

    A pattern that matches no Linear layer is a `ConfigError` under `key` listing the ones that exist.
    """
    layers = linear_layers(model)
    for pattern in patterns:
        if not any(fnmatchcase(name, pattern) for name in layers):
            raise ConfigError(key, pattern, f"a pattern matching at least one nn.Linear; they are: {list(layers)}")
    return {name: layer for name, layer in layers.items() if any(fnmatchcase(name, p) for p in patterns)}
