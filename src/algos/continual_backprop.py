"""Continual backprop (Dohare et al. 2024) on the hidden units of every transformer MLP.

After each optimizer step, per MLP: every unit ages; its contribution utility
u_i ← η u_i + (1−η) · mean_{batch, positions} |h_i| · Σ_j |W_out[j, i]| and its mean value
f_i are tracked (both bias-corrected by age); ρ × (number of mature units) are replaced, the
fractional part carried over; the lowest-utility mature units go. A replaced unit's mean
contribution moves into the next layer's bias, its outgoing column is zeroed (so the function
is unchanged), its statistics and the optimizer state of its row, bias and column are reset,
and it gets a new incoming row: a Kaiming-uniform draw here, a Σ-orthogonal one in RR-CBP.
"""
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from configs.configurations import ContinuousBackpropConfig
from configs.errors import ConfigError
from src.algos.input_covariance import InputCovariance
from src.algos.learner import Learner, StepOutput
from src.algos.mlp_units import UnitLayer, find_unit_layers
from src.algos.rank_restoring_draw import Whitening, whitened_gram_lambda_min

OPTIMIZER_STATE_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer")


@dataclass
class ReplacementEvent:
    """What one step's replacement did to one MLP; the `rrcbp` plugin records these."""

    layer: str
    replaced: int
    fallbacks: int
    saturated: int
    lambda_min_before: float  # λ_min of the whitened Gram of all incoming rows, before ...
    lambda_min_after: float  # ... and after the replacement
    orthogonality_residual: float  # max over projected new rows (NaN if none)
    energy_ratio: float  # mean Q_used / Q_target over new rows (NaN for plain CBP)


@dataclass
class NewRows:
    """Incoming rows (n, d) and biases (n,) for replaced units, with how they were drawn."""

    weight: torch.Tensor
    bias: torch.Tensor
    fallbacks: int = 0
    saturated: int = 0
    orthogonality_residual: float = math.nan
    energy_ratio: float = math.nan


class UnitState:
    """Per-MLP statistics: utility, mean value, age, carried fraction, input covariance."""

    def __init__(self, layer: UnitLayer, sigma_mode: str, sigma_beta: float) -> None:
        device = layer.fc_in.weight.device
        self.utility = torch.zeros(layer.n_units, device=device)
        self.mean_value = torch.zeros(layer.n_units, device=device)
        self.age = torch.zeros(layer.n_units, dtype=torch.long, device=device)
        self.carry = 0.0
        self.sigma = InputCovariance(layer.fc_in.in_features, sigma_beta, sigma_mode, device)
        self.inputs: Optional[torch.Tensor] = None
        self.values: Optional[torch.Tensor] = None


class ContinuousBackpropLearner(Learner):
    """Backprop plus unit replacement; `last_events` holds what the latest step replaced."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, config: ContinuousBackpropConfig, seed: int = 0) -> None:
        super().__init__(model, optimizer)
        _check(config)
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)
        self.unit_layers = find_unit_layers(model)
        # plain CBP has no Σ options but keeps a full Σ too, for the λ_min diagnostics
        sigma_mode, sigma_beta = getattr(config, "sigma_mode", "full"), getattr(config, "sigma_ema_beta", 0.99)
        self.states: Dict[str, UnitState] = {u.name: UnitState(u, sigma_mode, sigma_beta) for u in self.unit_layers}
        self.last_events: List[ReplacementEvent] = []
        self._capturing = False
        for unit_layer in self.unit_layers:
            state = self.states[unit_layer.name]
            unit_layer.fc_in.register_forward_pre_hook(lambda m, args, s=state: self._keep(s, "inputs", args[0]))
            unit_layer.fc_out.register_forward_pre_hook(lambda m, args, s=state: self._keep(s, "values", args[0]))

    def _keep(self, state: UnitState, name: str, tensor: torch.Tensor) -> None:
        if self._capturing:
            setattr(state, name, tensor.detach())

    def learn(self, inputs: torch.Tensor, targets: torch.Tensor, after_backward: Optional[Callable[[], None]] = None) -> StepOutput:
        self._capturing = True
        try:
            return super().learn(inputs, targets, after_backward)
        finally:
            self._capturing = False

    @property
    def unit_layer_names(self) -> List[str]:
        return [u.name for u in self.unit_layers]

    def input_covariance(self, layer: str) -> torch.Tensor:
        """Σ of the MLP input of `layer` (float64, d × d)."""
        return self.states[layer].sigma.matrix()

    @torch.no_grad()
    def after_optimizer_step(self) -> None:
        self.last_events = []
        for unit_layer in self.unit_layers:
            state = self.states[unit_layer.name]
            x = state.inputs.reshape(-1, state.inputs.shape[-1])
            h = state.values.reshape(-1, state.values.shape[-1])
            self._update_statistics(unit_layer, state, x, h)
            indices = self._units_to_replace(state)
            if len(indices):
                self.last_events.append(self._replace(unit_layer, state, indices, x))
            state.inputs = state.values = None

    def _update_statistics(self, unit_layer: UnitLayer, state: UnitState, x: torch.Tensor, h: torch.Tensor) -> None:
        eta = self.config.decay_rate_utility_track
        contribution = h.abs().mean(0) * unit_layer.fc_out.weight.abs().sum(0)
        state.age += 1
        state.utility.mul_(eta).add_(contribution, alpha=1 - eta)
        state.mean_value.mul_(eta).add_(h.mean(0), alpha=1 - eta)
        state.sigma.update(x)

    def _bias_corrected(self, state: UnitState, values: torch.Tensor, indices: Any = slice(None)) -> torch.Tensor:
        correction = 1 - self.config.decay_rate_utility_track ** state.age[indices].clamp_min(1).double()
        return values[indices] / correction.to(values.dtype)

    def _units_to_replace(self, state: UnitState) -> torch.Tensor:
        mature = state.age > self.config.maturity_threshold
        n_mature = int(mature.sum())
        expected = self.config.neurons_replacement_rate * n_mature
        if self.config.accumulate:
            state.carry += expected
            count = int(state.carry)
            state.carry -= count
        else:
            count = int(expected) + int(torch.rand((), generator=self.generator).item() < expected - int(expected))
        count = min(count, n_mature)
        if count == 0:
            return torch.empty(0, dtype=torch.long)
        utility = torch.where(mature, self._bias_corrected(state, state.utility), torch.full_like(state.utility, math.inf))
        return torch.topk(utility, count, largest=False).indices

    def _replace(self, unit_layer: UnitLayer, state: UnitState, indices: torch.Tensor, x: torch.Tensor) -> ReplacementEvent:
        fc_in, fc_out = unit_layer.fc_in, unit_layer.fc_out
        whitening = Whitening.of(state.sigma.matrix(), getattr(self.config, "sigma_floor", 1e-9))
        lambda_before = whitened_gram_lambda_min(fc_in.weight, whitening)
        mean_values = self._bias_corrected(state, state.mean_value, indices)
        fc_out.bias += fc_out.weight[:, indices] @ mean_values
        fc_out.weight[:, indices] = self._outgoing_seed(fc_out, len(indices))
        new = self.draw_incoming(unit_layer, indices, x, whitening)
        fc_in.weight[indices] = new.weight.to(fc_in.weight.dtype)
        fc_in.bias[indices] = new.bias.to(fc_in.bias.dtype)
        state.utility[indices] = 0
        state.mean_value[indices] = 0
        state.age[indices] = 0
        self._reset_optimizer_state(fc_in.weight, (indices,))
        self._reset_optimizer_state(fc_in.bias, (indices,))
        self._reset_optimizer_state(fc_out.weight, (slice(None), indices))
        return ReplacementEvent(
            layer=unit_layer.name,
            replaced=len(indices),
            fallbacks=new.fallbacks,
            saturated=new.saturated,
            lambda_min_before=lambda_before,
            lambda_min_after=whitened_gram_lambda_min(fc_in.weight, whitening),
            orthogonality_residual=new.orthogonality_residual,
            energy_ratio=new.energy_ratio,
        )

    def _outgoing_seed(self, fc_out: nn.Linear, n: int) -> torch.Tensor:
        return torch.zeros(fc_out.out_features, n, dtype=fc_out.weight.dtype, device=fc_out.weight.device)

    def draw_incoming(self, unit_layer: UnitLayer, indices: torch.Tensor, x: torch.Tensor, whitening: Whitening) -> NewRows:
        """New incoming rows for the units `indices`, given this step's layer input `x` (n, d).

        Plain CBP: a Kaiming-uniform row (as `nn.Linear` initialises it) and a zero bias."""
        fan_in = unit_layer.fc_in.in_features
        bound = 1 / math.sqrt(fan_in)
        weight = (torch.rand(len(indices), fan_in, generator=self.generator) * 2 - 1) * bound
        return NewRows(weight=weight.to(x.device), bias=torch.zeros(len(indices), device=x.device))

    def _reset_optimizer_state(self, param: torch.nn.Parameter, index: Tuple[Any, ...]) -> None:
        state = self.optimizer.state.get(param, {})
        for key in OPTIMIZER_STATE_KEYS:
            buffer = state.get(key)
            if isinstance(buffer, torch.Tensor) and buffer.shape == param.shape:
                buffer[index] = 0


def _check(config: ContinuousBackpropConfig) -> None:
    """Refuse values the algorithm cannot use, naming the key."""
    checks = [
        ("neurons_replacement_rate", 0.0 <= config.neurons_replacement_rate <= 1.0, "a number in [0, 1]"),
        ("decay_rate_utility_track", 0.0 <= config.decay_rate_utility_track < 1.0, "a number in [0, 1)"),
        ("maturity_threshold", config.maturity_threshold >= 0, "an integer >= 0"),
        ("util_type", config.util_type == "contribution", "contribution"),
    ]
    for key, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"learner.{key}", getattr(config, key), allowed)
