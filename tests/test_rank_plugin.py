"""The `rank` plugin on real models, in real runs."""
import math
from typing import Any, Dict

import pytest
import torch

from configs.errors import ConfigError
from plugins.rank import FOLDS
from src.telemetry import hookimpl
from src.telemetry.layer_selection import linear_layers
from src.telemetry.rank_measures import MEASURES, compute_all_rank_measures
from src.training.experiment import run_experiment
from tests.conftest import tiny_config

MANUAL = "GrokkingTransformer_pytorch_manual_implementation"
STANDARD = "GrokkingTransformer_pytorch_implementation"


def rank_config(**rank: Any) -> Any:
    return tiny_config(telemetry={"plugins": ["rank"], "rank": {"every": 4, "probe_size": 24, **rank}})


def hook_counts(model: torch.nn.Module) -> Dict[str, int]:
    return {
        "forward": sum(len(m._forward_hooks) for m in model.modules()),
        "param": sum(len(p._post_accumulate_grad_hooks or {}) for p in model.parameters()),
    }


@pytest.mark.parametrize(
    "net_type, expected_layers",
    [
        (MANUAL, ["layers.0.attn.W_q", "layers.0.attn.W_k", "layers.0.attn.W_v", "layers.0.attn.W_o", "layers.0.mlp.0", "layers.0.mlp.2"]),
        (STANDARD, ["layers.0.self_attn.out_proj", "layers.0.multihead_attn.out_proj", "layers.0.linear1", "layers.0.linear2"]),
    ],
)
def test_records_every_kind_for_every_default_layer(net_type, expected_layers, tmp_path, recorder):
    run_experiment(tiny_config(net={"type": net_type}, telemetry={"plugins": ["rank"], "rank": {"every": 4}}), tmp_path, extra_plugins={"r": recorder})
    steps_by_key: Dict[str, list] = {}
    for step, records in recorder.records:
        for key, value in records.items():
            if key.startswith("rank/"):
                assert math.isfinite(value), key
                steps_by_key.setdefault(key, []).append(step)
    layers = {key.split("/")[1] for key in steps_by_key}
    assert sorted(layers) == sorted(expected_layers)
    for layer in expected_layers:
        for kind in ("act", "weight", "grad"):
            for measure in MEASURES:
                assert f"rank/{layer}/{kind}/{measure}" in steps_by_key
        assert steps_by_key[f"rank/{layer}/grad/frobenius_norm"] == [0, 4]  # 8 steps: measured at 0 and 4
        assert steps_by_key[f"rank/{layer}/act/effective_rank"] == [0, 4, 8]  # ... and the final state


class HookWatcher:
    """Runs after `rank`: checks hooks exist only on measuring steps; can raise mid-step."""

    def __init__(self, raise_at: int = -1) -> None:
        self.raise_at, self.base, self.during = raise_at, None, {}

    @hookimpl
    def on_run_start(self, ctx: Any) -> None:
        self.base = hook_counts(ctx.model)

    @hookimpl
    def on_step_start(self, ctx: Any) -> None:
        self.during[ctx.step] = hook_counts(ctx.model)

    @hookimpl
    def on_after_backward(self, ctx: Any) -> None:
        if ctx.step == self.raise_at:
            raise RuntimeError("fault inside a measuring step")

    @hookimpl
    def on_step_end(self, ctx: Any) -> None:
        assert hook_counts(ctx.model) == self.base


def test_hooks_exist_only_during_measuring_steps(tmp_path):
    watcher = HookWatcher()
    cfg = rank_config()
    run_experiment(cfg, tmp_path, extra_plugins={"watch": watcher})
    n_layers = 6
    for step, counts in watcher.during.items():
        expected_params = n_layers if step % 4 == 0 else 0
        assert counts == {"forward": watcher.base["forward"], "param": watcher.base["param"] + expected_params}, step


def test_hooks_are_removed_when_a_measuring_step_raises(tmp_path):
    watcher = HookWatcher(raise_at=4)
    model_box = {}

    class Keep:
        @hookimpl
        def on_run_end(self, ctx: Any) -> None:
            model_box["model"] = ctx.model

    with pytest.raises(RuntimeError, match="fault inside"):
        run_experiment(rank_config(), tmp_path, extra_plugins={"watch": watcher, "keep": Keep()})
    assert watcher.during[4]["param"] > watcher.base["param"]
    assert hook_counts(model_box["model"]) == watcher.base


class Reference:
    """Measures the first selected layer itself at step 0, to check the plugin's figures."""

    def __init__(self) -> None:
        self.act, self.grad_norm = None, None

    @hookimpl
    def on_run_start(self, ctx: Any) -> None:
        order = torch.randperm(len(ctx.train.targets), generator=torch.Generator().manual_seed(ctx.config.seed))
        probe = ctx.train.inputs[order[:24]]
        captured = []
        handle = ctx.model.layers[0].mlp[0].register_forward_hook(lambda m, a, out: captured.append(out))
        with torch.no_grad():
            ctx.model(probe)
        handle.remove()
        self.act = compute_all_rank_measures(captured[0].reshape(24, -1))

    @hookimpl
    def on_after_backward(self, ctx: Any) -> None:
        if ctx.step == 0:
            self.grad_norm = ctx.model.layers[0].mlp[0].weight.grad.norm().item()


def test_figures_match_a_direct_computation(tmp_path, recorder):
    reference = Reference()
    run_experiment(rank_config(layers=["*.mlp.0"]), tmp_path, extra_plugins={"ref": reference, "r": recorder})
    at_zero = {k: v for step, records in recorder.records if step == 0 for k, v in records.items()}
    for measure, value in reference.act.items():
        assert at_zero[f"rank/layers.0.mlp.0/act/{measure}"] == pytest.approx(value, rel=1e-9)
    assert at_zero["rank/layers.0.mlp.0/grad/frobenius_norm"] == pytest.approx(reference.grad_norm, rel=1e-6)
    assert {k.split("/")[1] for k in at_zero if k.startswith("rank/")} == {"layers.0.mlp.0"}


def test_pattern_matching_no_linear_lists_the_linear_layers(tmp_path, recorder):
    with pytest.raises(ConfigError) as caught:
        run_experiment(rank_config(layers=["layers.*", "*.conv*"]), tmp_path, extra_plugins={"r": recorder})
    assert caught.value.key == "telemetry.rank.layers" and caught.value.value == "*.conv*"
    assert "layers.0.attn.W_q" in str(caught.value) and "unembed" in str(caught.value)
    assert not any(event == "on_run_start" for event, _ in recorder.events)


@pytest.mark.parametrize(
    "option, value",
    [("every", 0), ("probe_size", 0), ("fold", "mean"), ("kinds", ["act", "hessian"]), ("approximate_threshold", 1.5), ("numerical_eps", 0.0)],
)
def test_bad_options_are_refused_before_training(option, value, tmp_path):
    with pytest.raises(ConfigError, match=rf"telemetry.rank.{option}"):
        run_experiment(rank_config(**{option: value}), tmp_path)


def test_fold_modes_shape_rows():
    out = torch.randn(5, 4, 3)  # (B, T, C)
    assert FOLDS["flatten"](out).shape == (5, 12)
    assert torch.equal(FOLDS["last"](out), out[:, -1])
    assert FOLDS["tokens"](out).shape == (20, 3)


def test_weights_only_kind_adds_no_hooks(tmp_path, recorder):
    watcher = HookWatcher()
    run_experiment(rank_config(kinds=["weight"]), tmp_path, extra_plugins={"watch": watcher, "r": recorder})
    assert all(counts == watcher.base for counts in watcher.during.values())
    keys = {k for _, records in recorder.records for k in records if k.startswith("rank/")}
    assert keys and all("/weight/" in k for k in keys)


def test_linear_layers_lists_subclasses_too():
    layer = torch.nn.MultiheadAttention(8, 2)
    assert "out_proj" in linear_layers(layer)
