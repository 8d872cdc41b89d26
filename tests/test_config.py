"""The real config.yaml, composed by Hydra, validated before anything is built."""
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig

from configs.configurations import BackpropConfig, GrokkingTransformerConfig, NetConfig
from configs.errors import ConfigError
from configs.loading import load_experiment_config
from configs.registration import register_configs
from src.training.experiment import run_experiment
from tests.conftest import REPO, tiny_config

CONFIG_DIR = REPO / "experiments" / "grokking" / "cfg"


def compose_config(*overrides: str) -> DictConfig:
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_default_config_is_the_grokking_setup():
    cfg = load_experiment_config(compose_config())
    assert isinstance(cfg.net, GrokkingTransformerConfig) and isinstance(cfg.learner, BackpropConfig)
    assert (cfg.data.p, cfg.data.train_fraction, cfg.data.operation) == (113, 0.5, "add")
    assert (cfg.net.type, cfg.net.d_model, cfg.net.n_layers, cfg.net.vocab_size) == (
        "GrokkingTransformer_pytorch_manual_implementation",
        128,
        2,
        115,
    )
    assert (cfg.learner.opt, cfg.learner.step_size, cfg.learner.weight_decay) == ("adamw", 1e-3, 1.0)
    assert list(cfg.learner.betas) == [0.9, 0.98]
    assert (cfg.training.epochs, cfg.training.batch_size, cfg.training.early_stop_acc) == (10000, 512, None)


def test_overrides_users_type():
    cfg = load_experiment_config(
        compose_config(
            "net.type=GrokkingTransformer_pytorch_implementation",
            "net.n_layers=1",
            "seed=3",
            "data.train_fraction=0.3",
            "training.epochs=200",
            "training.batch_size=null",
        )
    )
    assert cfg.net.type == "GrokkingTransformer_pytorch_implementation" and cfg.net.n_layers == 1
    assert (cfg.seed, cfg.data.train_fraction, cfg.training.epochs, cfg.training.batch_size) == (3, 0.3, 200, None)


def test_wrong_type_is_rejected_naming_the_key():
    with pytest.raises(ConfigError, match=r"net.n_layers='two'.*Integer"):
        load_experiment_config(compose_config("net.n_layers=two"))
    with pytest.raises(ConfigCompositionException, match="training.epochs"):
        compose_config("training.epochs=many")


def test_unknown_key_is_rejected():
    with pytest.raises(ConfigCompositionException, match="trainin"):
        compose_config("trainin.epochs=3")
    with pytest.raises(ConfigError, match=r"net.n_layer=1.*not in 'GrokkingTransformerConfig'"):
        load_experiment_config(compose_config("+net.n_layer=1"))


def test_net_target_picks_the_union_member():
    cfg = load_experiment_config({"net": {"_target_": "configs.configurations.NetConfig", "hidden_size": 64}})
    assert isinstance(cfg.net, NetConfig) and cfg.net.hidden_size == 64
    with pytest.raises(ConfigError, match=r"net._target_='configs.configurations.Nope'.*GrokkingTransformerConfig.*NetConfig"):
        load_experiment_config({"net": {"_target_": "configs.configurations.Nope"}})


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"data": {"train_fraction": 1.5}}, "data.train_fraction"),
        ({"net": {"d_model": 30, "n_heads": 4}}, "net.d_model"),
        ({"data": {"p": 200}}, "net.vocab_size"),
        ({"training": {"batch_size": 0}}, "training.batch_size"),
        ({"training": {"early_stop_acc": 1.5}}, "training.early_stop_acc"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_out_of_range_values_name_key_and_rule(raw, key):
    with pytest.raises(ConfigError) as caught:
        load_experiment_config(raw)
    assert caught.value.key == key and "not allowed" in str(caught.value)


@pytest.mark.parametrize(
    "sections, key",
    [
        ({"net": {"type": "GPT"}}, "net.type"),
        ({"learner": {"opt": "lion"}}, "learner.opt"),
        ({"learner": {"type": "magic"}}, "learner.type"),
        ({"data": {"dataset": "mnist"}}, "data.dataset"),
        ({"telemetry": {"plugins": ["nope"]}}, "telemetry.plugins"),
    ],
)
def test_factory_errors_come_before_training(sections, key, tmp_path, recorder):
    with pytest.raises(ConfigError) as caught:
        run_experiment(tiny_config(**sections), tmp_path, extra_plugins={"recorder": recorder})
    assert caught.value.key == key
    assert not any(event.startswith("on_run_start") for event, _ in recorder.events)
