"""Grokking on a ∘ b mod p: `python experiments/grokking/train_grokking.py [overrides]`."""
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from configs.loading import load_experiment_config
from configs.registration import register_configs
from src.training.experiment import run_experiment

register_configs()


@hydra.main(version_base="1.3", config_path="cfg", config_name="config")
def main(dict_cfg: DictConfig) -> None:
    cfg = load_experiment_config(dict_cfg)
    run_experiment(cfg, run_dir=Path(HydraConfig.get().runtime.output_dir))


if __name__ == "__main__":
    main()
