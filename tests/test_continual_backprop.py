"""CBP and RR-CBP: invariances of a replacement, the Σ-orthogonal draw, and its diagnostics."""
import math
from typing import Any, Dict

import pytest
import torch

from configs.errors import ConfigError
from src.algos.input_covariance import InputCovariance
from src.algos.learner import Learner
from src.algos.learner_factory import learner_factory
from src.algos.optimizers import build_optimizer
from src.algos.rank_restoring_draw import Whitening, draw_sigma_orthogonal_rows, orthogonality_residual
from src.algos.rr_continual_backprop import chi0
from src.data_loading.dataset_factory import dataset_factory
from src.models.model_factory import model_factory
from src.training.experiment import run_experiment
from tests.conftest import TINY_OVERRIDES, tiny_config

RR = "configs.configurations.RRContinuousBackpropConfig"
CBP = "configs.configurations.ContinuousBackpropConfig"


def learner_config(target: str, **fields: Any) -> Dict[str, Any]:
    kind = "rr_cbp" if target == RR else "cbp"
    return {"_target_": target, "type": kind, **fields}


def build(target: str, net: Dict[str, Any] = {}, **fields: Any):
    cfg = tiny_config(net=net, learner=learner_config(target, **fields))
    torch.manual_seed(0)
    model = model_factory(cfg.net)
    learner = learner_factory(model, cfg.learner, seed=0)
    train, _ = dataset_factory(cfg.data)
    return model, learner, train.inputs[:32], train.targets[:32]


OUTGOING = torch.linspace(-2e-2, 2e-2, 16)  # not constant: LayerNorm would hide a uniform shift


def random_spd(d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


@pytest.mark.parametrize("target", [CBP, RR])
def test_logits_are_unchanged_right_after_a_replacement(target):
    # lr 0 and no weight decay: only the replacement can change the model
    model, learner, x, y = build(target, neurons_replacement_rate=1 / 32, maturity_threshold=0, step_size=0.0, weight_decay=0.0)
    mlp = model.layers[0].mlp
    with torch.no_grad():  # unit 5 has a constant value gelu(0.7) and the smallest utility
        mlp[0].weight[5] = 0.0
        mlp[0].bias[5] = 0.7
        mlp[2].weight[:, 5] = OUTGOING
    model.eval()
    before = model(x)
    learner.learn(x, y)
    model.eval()
    after = model(x)
    assert [event.replaced for event in learner.last_events] == [1]
    assert mlp[0].weight[5].abs().sum() > 0 and mlp[2].weight[:, 5].abs().sum() == 0  # unit 5 was the one
    assert ((after - before).norm() / before.norm()).item() <= 1e-5


def test_without_the_bias_transfer_the_logits_would_move():
    model, learner, x, y = build(CBP, neurons_replacement_rate=1 / 32, maturity_threshold=0, step_size=0.0, weight_decay=0.0)
    mlp = model.layers[0].mlp
    with torch.no_grad():
        mlp[0].weight[5] = 0.0
        mlp[0].bias[5] = 0.7
        mlp[2].weight[:, 5] = OUTGOING
        before = model(x)
        mlp[2].weight[:, 5] = 0.0  # what a replacement does, minus moving the mean into the bias
        assert ((model(x) - before).norm() / before.norm()).item() > 1e-4


@pytest.mark.parametrize("mode", ["full", "diagonal"])
def test_new_rows_are_sigma_orthogonal_with_the_allotted_energy(mode):
    d, k = 16, 5
    sigma = random_spd(d, seed=1)
    if mode == "diagonal":
        sigma = torch.diag(sigma.diagonal())
    whitening = Whitening.of(sigma, floor=0.0)
    kept = torch.randn(k, d, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    drawn = draw_sigma_orthogonal_rows(kept, whitening, [2.0, 3.0, 0.5], generator=torch.Generator().manual_seed(3))
    assert drawn.saturated == 0 and drawn.fallbacks == 0
    rows = drawn.rows
    for i, row in enumerate(rows):
        earlier = torch.cat([kept, rows[:i]])
        assert orthogonality_residual(earlier, row, whitening) <= 1e-4
        assert (row @ sigma @ row).item() == pytest.approx([2.0, 3.0, 0.5][i], rel=1e-4)
        assert orthogonality_residual(earlier, torch.randn(d, dtype=torch.float64), whitening) > 1e-2  # a random row is not


def test_saturated_rows_take_the_least_covered_direction():
    d = 8
    sigma = random_spd(d, seed=4)
    whitening = Whitening.of(sigma, floor=0.0)
    kept = torch.randn(20, d, dtype=torch.float64, generator=torch.Generator().manual_seed(5))  # 20 rows span R^8
    drawn = draw_sigma_orthogonal_rows(kept, whitening, [1.0])
    assert drawn.saturated == 1 and drawn.fallbacks == 0
    eigenvalues, vectors = torch.linalg.eigh(sigma)
    sqrt = vectors @ torch.diag(eigenvalues.sqrt()) @ vectors.T
    coverage = sqrt @ kept.T @ kept @ sqrt  # Σ^{1/2} V Vᵀ Σ^{1/2}
    least = torch.linalg.eigh(coverage).eigenvectors[:, 0]
    expected = torch.linalg.solve(sqrt, least)  # Σ^{-1/2} e_min
    row = drawn.rows[0]
    cosine = (row @ sigma @ expected) / torch.sqrt((row @ sigma @ row) * (expected @ sigma @ expected))
    assert abs(cosine.item()) == pytest.approx(1.0, abs=1e-8)
    assert (row @ sigma @ row).item() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("mode", ["full", "diagonal"])
def test_learner_with_more_inputs_than_units_draws_orthogonal_rows(mode):
    net = {"d_model": 32, "d_mlp": 8, "n_heads": 2}
    model, learner, x, y = build(RR, net=net, neurons_replacement_rate=0.25, maturity_threshold=2, sigma_mode=mode)
    events = []
    for _ in range(6):
        learner.learn(x, y)
        events += learner.last_events
    assert events and all(e.saturated == 0 and e.orthogonality_residual <= 1e-4 for e in events)
    assert all(e.energy_ratio > 0 for e in events)


def test_the_default_transformer_mlp_is_saturated_and_counted():
    model, learner, x, y = build(RR, neurons_replacement_rate=0.1, maturity_threshold=1)  # 32 units on 16 inputs
    for _ in range(4):
        learner.learn(x, y)
        if learner.last_events:
            break
    event = learner.last_events[0]
    assert event.saturated == event.replaced > 0 and math.isnan(event.orthogonality_residual)


def test_optimizer_state_of_replaced_units_is_zero_and_other_rows_untouched():
    model, learner, x, y = build(CBP, neurons_replacement_rate=0.1, maturity_threshold=3)
    snapshot: Dict[str, torch.Tensor] = {}
    mlp = model.layers[0].mlp

    def keep_state(optimizer: Any, args: Any, kwargs: Any) -> None:
        for name, p in (("in", mlp[0].weight), ("bias", mlp[0].bias), ("out", mlp[2].weight)):
            for key in ("exp_avg", "exp_avg_sq"):
                snapshot[f"{name}.{key}"] = optimizer.state[p][key].clone()

    learner.optimizer.register_step_post_hook(keep_state)
    while not learner.last_events:
        before_rows = mlp[0].weight.detach().clone()
        learner.learn(x, y)
    replaced = (mlp[0].weight != before_rows).any(dim=1) & (mlp[2].weight == 0).all(dim=0)
    assert replaced.sum() == learner.last_events[0].replaced
    for name, p, unit_dim in (("in", mlp[0].weight, 0), ("bias", mlp[0].bias, 0), ("out", mlp[2].weight, 1)):
        for key in ("exp_avg", "exp_avg_sq"):
            state = learner.optimizer.state[p][key].movedim(unit_dim, 0)
            old = snapshot[f"{name}.{key}"].movedim(unit_dim, 0)
            assert (state[replaced] == 0).all()
            assert torch.equal(state[~replaced], old[~replaced])
            assert (old[replaced] != 0).any()


def test_immature_units_are_never_replaced():
    model, learner, x, y = build(CBP, neurons_replacement_rate=1.0, maturity_threshold=5)
    history = []
    for _ in range(7):
        learner.learn(x, y)
        history.append(sum(e.replaced for e in learner.last_events))
    assert history[:5] == [0] * 5  # age 1..5 is not > 5
    assert history[5] == 32  # at age 6 all are mature, and ρ = 1 replaces them all
    assert history[6] == 0  # the new units are immature again


@pytest.mark.parametrize("target", [CBP, RR])
def test_rate_zero_equals_backprop_bit_for_bit(target):
    model, learner, x, y = build(target, neurons_replacement_rate=0.0, maturity_threshold=0)
    torch.manual_seed(0)
    reference_model = model_factory(tiny_config().net)
    reference_model.load_state_dict(model.state_dict())
    reference = Learner(reference_model, build_optimizer(reference_model.parameters(), learner.config))
    for _ in range(10):
        learner.learn(x, y)
        reference.learn(x, y)
    for (name, p), q in zip(model.named_parameters(), reference_model.parameters()):
        assert torch.equal(p, q), name


def test_standard_model_units_are_linear1_and_linear2():
    net = {"type": "GrokkingTransformer_pytorch_implementation"}
    model, learner, x, y = build(RR, net=net, neurons_replacement_rate=0.1, maturity_threshold=1)
    assert learner.unit_layer_names == ["layers.0.ff"]
    for _ in range(3):
        learner.learn(x, y)
    assert model.layers[0].linear2.weight.eq(0).all(dim=0).any()  # a replaced unit's column


def test_covariance_tracks_a_known_distribution():
    g = torch.Generator().manual_seed(7)
    true = random_spd(6, seed=8)
    chol = torch.linalg.cholesky(true)
    full, diagonal = InputCovariance(6, beta=0.9, mode="full"), InputCovariance(6, beta=0.9, mode="diagonal")
    for _ in range(200):
        x = torch.randn(4000, 6, generator=g, dtype=torch.float64) @ chol.T + 3.0
        full.update(x)
        diagonal.update(x)
    assert torch.allclose(full.matrix(), true, atol=0.05)
    assert torch.allclose(diagonal.matrix(), torch.diag(true.diagonal()), atol=0.05)


def test_chi0_of_known_activations():
    assert chi0(torch.relu) == pytest.approx(0.5, abs=1e-6)
    assert chi0(torch.nn.functional.gelu) == pytest.approx(0.4252, abs=1e-3)


@pytest.mark.parametrize("field, value", [("neurons_replacement_rate", 1.5), ("util_type", "magnitude"), ("sigma_mode", "sparse"), ("projector_reg", 0.0)])
def test_bad_learner_options_are_refused(field, value, tmp_path):
    with pytest.raises(ConfigError, match=f"learner.{field}"):
        run_experiment(tiny_config(learner=learner_config(RR, **{field: value})), tmp_path)


def test_rrcbp_plugin_needs_a_cbp_learner(tmp_path):
    with pytest.raises(ConfigError, match="learner=cbp or learner=rr_cbp"):
        run_experiment(tiny_config(telemetry={"plugins": ["rrcbp"]}), tmp_path)


def test_cbp_and_rr_cbp_sweep_end_to_end_records_land_in_the_run_files(tmp_path):
    from src.analysis import load_run
    from tests.conftest import run_entry_point

    args = [
        "-m",
        "learner=cbp,rr_cbp",
        *TINY_OVERRIDES,
        "++learner.neurons_replacement_rate=0.05",
        "++learner.maturity_threshold=2",
        "telemetry.plugins=[console,rrcbp,hdf5]",
        "telemetry.rrcbp.sigma_every=2",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    result = run_entry_point(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for job, learner in (("0", "cbp"), ("1", "rr_cbp")):
        run = load_run(tmp_path / "sweep" / job / "run.h5")
        assert run.config["learner"]["type"] == learner and run.config["learner"]["neurons_replacement_rate"] == 0.05
        replaced = run.series["rrcbp/layers.0.mlp/replaced"]
        assert len(replaced) > 0 and (replaced["value"] >= 1).all()
        assert len(run.series["rrcbp/layers.0.mlp/sigma_condition"]) == 4  # steps 2, 4, 6, 8
    saturated = run.series["rrcbp/layers.0.mlp/saturated"]["value"]
    assert (saturated == replaced["value"]).all()  # rr_cbp: 32 units on 16 inputs span them all


def _replace_once(**fields: Any):
    """One RR-CBP replacement with frozen weights; returns the model, learner, the unit, and the MLP input."""
    model, learner, x, y = build(RR, neurons_replacement_rate=1 / 32, maturity_threshold=0, step_size=0.0, weight_decay=0.0, **fields)
    captured = []
    handle = model.layers[0].mlp[0].register_forward_pre_hook(lambda m, args: captured.append(args[0].detach()))
    before = model.layers[0].mlp[0].weight.detach().clone()
    learner.learn(x, y)
    handle.remove()
    unit = int((model.layers[0].mlp[0].weight != before).any(dim=1).nonzero()[0])
    return model, learner, unit, captured[0].reshape(-1, captured[0].shape[-1])


def test_new_unit_is_bias_centred_and_has_the_target_energy():
    model, learner, unit, mlp_input = _replace_once()
    mlp = model.layers[0].mlp
    pre_activation = mlp_input @ mlp[0].weight[unit] + mlp[0].bias[unit]
    assert abs(pre_activation.mean().item()) <= 1e-2 * pre_activation.std().item()  # float32 rows
    sigma = learner.input_covariance("layers.0.mlp")
    w = mlp[0].weight[unit].double()
    q_target = sigma.trace().item() / sigma.shape[0] / chi0(torch.nn.functional.gelu)
    null = torch.linalg.eigh(sigma).eigenvectors[:, 0]  # LayerNorm output: Σ has an exactly null direction
    assert torch.linalg.eigvalsh(sigma)[0] < 1e-12 and abs((w @ null).item()) < 1e-6 * w.norm().item()
    assert (w @ sigma @ w).item() == pytest.approx(q_target * learner.last_events[0].energy_ratio, rel=1e-3)


def test_chi0_override_and_micro_seed_change_the_new_unit():
    model, learner, unit, _ = _replace_once(chi0_override=1.0, micro_seed_eps=0.5, center_bias=False)
    mlp = model.layers[0].mlp
    sigma = learner.input_covariance("layers.0.mlp")
    w = mlp[0].weight[unit].double()
    q_target = sigma.trace().item() / sigma.shape[0] / 1.0
    assert (w @ sigma @ w).item() == pytest.approx(q_target * learner.last_events[0].energy_ratio, rel=1e-3)
    assert mlp[0].bias[unit].item() == 0.0
    outgoing = mlp[2].weight[:, unit]
    assert 0 < outgoing.abs().max().item() < 0.5
