"""Rank-restoring continual backprop: CBP whose new units are drawn Σ-orthogonal to the kept ones.

Σ is an EMA of the covariance of the MLP's input. A new incoming row is drawn by
`draw_sigma_orthogonal_rows` and scaled to the Σ-energy q = tr(Σ)/d / χ0(φ): with
χ0(φ) = E[φ(z)²] for z ~ N(0, 1), the unit's output then has about the mean second moment
of the layer's input. The layer budget is n_units · q; when the kept rows already use more,
a new row gets what is left, but at least the floor τ·λ_min(Σ) (or λ* when set), with
λ_min taken on Σ's range (see `Whitening`).
With `rrcbp_enabled=false` this is plain CBP.
"""
import math
from functools import lru_cache
from typing import Callable

import torch
import torch.nn as nn

from configs.configurations import RRContinuousBackpropConfig
from configs.errors import ConfigError
from src.algos.continual_backprop import ContinuousBackpropLearner, NewRows
from src.algos.mlp_units import UnitLayer
from src.algos.rank_restoring_draw import Whitening, draw_sigma_orthogonal_rows


@lru_cache(maxsize=None)
def _chi0_of(name: str, activation: Callable[[torch.Tensor], torch.Tensor]) -> float:
    z = torch.linspace(-12, 12, 240_001, dtype=torch.float64)
    density = torch.exp(-z.square() / 2) / math.sqrt(2 * math.pi)
    return torch.trapezoid(activation(z).square() * density, z).item()


def chi0(activation: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """E[φ(z)²] for z ~ N(0, 1), by quadrature (GELU ≈ 0.425, ReLU = 0.5)."""
    return _chi0_of(getattr(activation, "__name__", type(activation).__name__), activation)


class RRContinuousBackpropLearner(ContinuousBackpropLearner):
    """CBP with rank-restoring draws of new incoming rows."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, config: RRContinuousBackpropConfig, seed: int = 0) -> None:
        _check(config)
        super().__init__(model, optimizer, config, seed)

    def draw_incoming(self, unit_layer: UnitLayer, indices: torch.Tensor, x: torch.Tensor, whitening: Whitening) -> NewRows:
        config = self.config
        if not config.rrcbp_enabled:
            return super().draw_incoming(unit_layer, indices, x, whitening)
        weight = unit_layer.fc_in.weight.detach().to(torch.float64)
        kept_mask = torch.ones(len(weight), dtype=torch.bool, device=weight.device)
        kept_mask[indices] = False
        kept = weight[kept_mask]
        d = weight.shape[1]
        sigma_eigenvalues = whitening.eigenvalues
        q_target = (sigma_eigenvalues.sum() / d).item() / (config.chi0_override or chi0(unit_layer.activation))
        kept_energy = whitening.whiten(kept).square().sum().item()
        available = (unit_layer.n_units * q_target - kept_energy) / len(indices)
        floor = config.lambda_star if config.lambda_star is not None else config.energy_floor_tau * sigma_eigenvalues[0].item()
        q_used = q_target if available >= q_target else max(available, floor)
        drawn = draw_sigma_orthogonal_rows(
            kept,
            whitening,
            [q_used] * len(indices),
            projector_reg=config.projector_reg,
            max_trials=config.max_proj_trials,
            collapse_tol=config.collapse_tol,
            generator=self.generator,
        )
        rows = drawn.rows
        bias = -(x.to(torch.float64) @ rows.T).mean(0) if config.center_bias else torch.zeros(len(indices), dtype=torch.float64, device=x.device)
        return NewRows(
            weight=rows,
            bias=bias,
            fallbacks=drawn.fallbacks,
            saturated=drawn.saturated,
            orthogonality_residual=max(drawn.residuals) if drawn.residuals else math.nan,
            energy_ratio=q_used / q_target,
        )

    def _outgoing_seed(self, fc_out: nn.Linear, n: int) -> torch.Tensor:
        seed = super()._outgoing_seed(fc_out, n)
        eps = self.config.micro_seed_eps
        if eps > 0:
            noise = torch.randn(seed.shape, generator=self.generator) * eps / math.sqrt(fc_out.in_features)
            seed += noise.to(seed.device, seed.dtype)
        return seed


def _check(config: RRContinuousBackpropConfig) -> None:
    """Refuse values the algorithm cannot use, naming the key."""
    checks = [
        ("sigma_mode", config.sigma_mode in ("full", "diagonal"), "full or diagonal"),
        ("sigma_ema_beta", 0.0 <= config.sigma_ema_beta < 1.0, "a number in [0, 1)"),
        ("sigma_floor", 0.0 <= config.sigma_floor < 1.0, "a number in [0, 1)"),
        ("projector_reg", config.projector_reg > 0, "a number > 0"),
        ("max_proj_trials", config.max_proj_trials >= 1, "an integer >= 1"),
        ("collapse_tol", 0.0 < config.collapse_tol < 1.0, "a number in (0, 1)"),
        ("energy_floor_tau", config.energy_floor_tau >= 0, "a number >= 0"),
        ("micro_seed_eps", config.micro_seed_eps >= 0, "a number >= 0"),
    ]
    for key, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"learner.{key}", getattr(config, key), allowed)
