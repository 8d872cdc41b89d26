"""Build the network named by `net.type`."""
from typing import Dict, Tuple, Type, Union

import torch.nn as nn

from configs.configurations import GrokkingTransformerConfig, NetConfig
from configs.errors import ConfigError
from src.models.grokking_mlp import ACTIVATIONS, GrokkingMLP
from src.models.grokking_transformer import GrokkingTransformerManual, GrokkingTransformerStandard

MODELS: Dict[str, Tuple[type, Type[nn.Module]]] = {
    "GrokkingTransformer_pytorch_manual_implementation": (GrokkingTransformerConfig, GrokkingTransformerManual),
    "GrokkingTransformer_pytorch_implementation": (GrokkingTransformerConfig, GrokkingTransformerStandard),
    "MLP": (NetConfig, GrokkingMLP),
}


def model_factory(net_cfg: Union[NetConfig, GrokkingTransformerConfig]) -> nn.Module:
    """Return a freshly initialised model of type `net_cfg.type`."""
    known = [name for name, (config_type, _) in MODELS.items() if isinstance(net_cfg, config_type)]
    if net_cfg.type not in known:
        raise ConfigError("net.type", net_cfg.type, f"one of {known} for {type(net_cfg).__name__}")
    if isinstance(net_cfg, NetConfig) and net_cfg.act_type not in ACTIVATIONS:
        raise ConfigError("net.act_type", net_cfg.act_type, f"one of {sorted(ACTIVATIONS)}")
    return MODELS[net_cfg.type][1](net_cfg)
