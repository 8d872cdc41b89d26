import pytest
import torch

from configs.configurations import GrokkingTransformerConfig, NetConfig
from configs.errors import ConfigError
from src.models.grokking_mlp import GrokkingMLP
from src.models.grokking_transformer import GrokkingTransformerManual, GrokkingTransformerStandard
from src.models.model_factory import model_factory
from src.training.experiment import run_experiment
from tests.conftest import tiny_config

MANUAL = "GrokkingTransformer_pytorch_manual_implementation"
STANDARD = "GrokkingTransformer_pytorch_implementation"
SMALL = dict(vocab_size=13, d_model=16, n_heads=2, d_mlp=32, n_layers=2)


@pytest.mark.parametrize("net_type", [MANUAL, STANDARD])
def test_logits_shape(net_type):
    model = model_factory(GrokkingTransformerConfig(type=net_type, **SMALL))
    assert model(torch.randint(0, 13, (5, 4))).shape == (5, 4, 13)


@pytest.mark.parametrize("net_type", [MANUAL, STANDARD])
def test_position_t_never_sees_later_tokens(net_type):
    torch.manual_seed(0)
    model = model_factory(GrokkingTransformerConfig(type=net_type, **SMALL)).eval()
    tokens = torch.randint(0, 13, (8, 6))
    changed = tokens.clone()
    changed[:, 3:] = (changed[:, 3:] + 1) % 13
    before, after = model(tokens), model(changed)
    torch.testing.assert_close(before[:, :3], after[:, :3])
    assert not torch.allclose(before[:, 3:], after[:, 3:])


def test_manual_model_names_every_projection():
    names = dict(model_factory(GrokkingTransformerConfig(**SMALL)).named_modules())
    for name in ("layers.0.attn.W_q", "layers.0.attn.W_k", "layers.0.attn.W_v", "layers.0.attn.W_o", "layers.1.mlp.0", "layers.1.mlp.2"):
        assert isinstance(names[name], torch.nn.Linear)


def test_factory_picks_the_class_by_type():
    assert type(model_factory(GrokkingTransformerConfig(type=MANUAL, **SMALL))) is GrokkingTransformerManual
    assert type(model_factory(GrokkingTransformerConfig(type=STANDARD, **SMALL))) is GrokkingTransformerStandard
    assert type(model_factory(NetConfig(vocab_size=13, hidden_size=8))) is GrokkingMLP


def test_factory_rejects_unknown_type_listing_known_ones():
    with pytest.raises(ConfigError, match=rf"net.type='GPT'.*{MANUAL}.*{STANDARD}"):
        model_factory(GrokkingTransformerConfig(type="GPT"))
    with pytest.raises(ConfigError, match=r"net.act_type='swish'"):
        model_factory(NetConfig(act_type="swish"))


MLP_NET = {"_target_": "configs.configurations.NetConfig", "vocab_size": 13, "d_embed": 8, "hidden_size": 32}


@pytest.mark.parametrize("net", [{"type": MANUAL}, {"type": STANDARD}, MLP_NET])
def test_every_model_type_trains(net, tmp_path, recorder):
    cfg = tiny_config(net=net, training={"epochs": 60, "batch_size": None, "eval_every": 60}, learner={"step_size": 1e-2})
    result = run_experiment(cfg, tmp_path, extra_plugins={"recorder": recorder})
    assert result.status == "finished" and result.steps == 60
    losses = [records["eval/train_loss"] for _, records in recorder.records if "eval/train_loss" in records]
    assert losses[-1] < 0.6 * losses[0]
