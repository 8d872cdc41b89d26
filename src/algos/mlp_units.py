"""The hidden units continual backprop works on: each block's MLP, as (fc_in, fc_out) pairs."""
from dataclasses import dataclass
from typing import Callable, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from configs.errors import ConfigError


@dataclass
class UnitLayer:
    """One MLP: unit i has incoming row `fc_in.weight[i]`, bias `fc_in.bias[i]` and outgoing
    column `fc_out.weight[:, i]`; `activation` maps fc_in's output to the units' values."""

    name: str
    fc_in: nn.Linear
    fc_out: nn.Linear
    activation: Callable[[torch.Tensor], torch.Tensor]

    @property
    def n_units(self) -> int:
        return self.fc_in.out_features


def find_unit_layers(model: nn.Module) -> List[UnitLayer]:
    """The MLPs of the manual (`mlp.0`/`mlp.2`, GELU) and standard (`linear1`/`linear2`) transformers."""
    layers: List[UnitLayer] = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Sequential) and name.endswith("mlp") and len(module) == 3:
            fc_in, act, fc_out = module
            if isinstance(fc_in, nn.Linear) and isinstance(fc_out, nn.Linear):
                layers.append(UnitLayer(name, fc_in, fc_out, act))
        elif isinstance(module, nn.TransformerDecoderLayer):
            act = module.activation
            layers.append(UnitLayer(f"{name}.ff", module.linear1, module.linear2, act if callable(act) else F.gelu))
    if not layers:
        raise ConfigError(
            "learner.type",
            "continual backprop",
            "a model with transformer MLP blocks (mlp.0/mlp.2 or linear1/linear2); this model has none",
        )
    return layers
