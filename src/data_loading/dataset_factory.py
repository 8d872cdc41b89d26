"""Build the (train, test) splits named by `data.dataset`."""
from typing import Tuple

from configs.configurations import DataConfig
from configs.errors import ConfigError
from src.data_loading.grokking_datasets import OPERATIONS, ModularArithmeticDataset

KNOWN_DATASETS = ("modular_arithmetic",)


def dataset_factory(config: DataConfig) -> Tuple[ModularArithmeticDataset, ModularArithmeticDataset]:
    """Return the train and test splits, built with the same seed so they are disjoint."""
    if config.dataset not in KNOWN_DATASETS:
        raise ConfigError("data.dataset", config.dataset, f"one of {list(KNOWN_DATASETS)}")
    if config.operation not in OPERATIONS:
        raise ConfigError("data.operation", config.operation, f"one of {sorted(OPERATIONS)}")
    common = dict(seed=config.seed, p=config.p, train_fraction=config.train_fraction, operation=config.operation)
    return ModularArithmeticDataset(train=True, **common), ModularArithmeticDataset(train=False, **common)
