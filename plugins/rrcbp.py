"""RR-CBP diagnostics: what every replacement did, per MLP, and the spectrum of Σ.

Per layer (`rrcbp/<layer>/...`), at every step that replaced units: `replaced`, `fallbacks`,
`saturated`, `lambda_min_before` / `lambda_min_after` (λ_min of the whitened Gram of all
incoming rows), `orthogonality_residual` (max ‖VᵀΣw‖ / (‖V‖_Σ‖w‖_Σ) over projected rows,
NaN when every row was saturated), `energy_ratio` (Q_used / Q_target; NaN for plain CBP).
Every `telemetry.rrcbp.sigma_every` steps: `sigma_lambda_min` and `sigma_condition` of Σ.
Works with `learner=cbp` and `learner=rr_cbp`.
"""
from typing import Any, List

import torch

from src.algos.continual_backprop import ContinuousBackpropLearner
from src.telemetry import ConfigError, RunContext, hookimpl

EVENT_FIELDS = (
    "replaced",
    "fallbacks",
    "saturated",
    "lambda_min_before",
    "lambda_min_after",
    "orthogonality_residual",
    "energy_ratio",
)
SIGMA_FIELDS = ("sigma_lambda_min", "sigma_condition")


class RRCBPPlugin:
    """The built-in `rrcbp` plugin; options under `telemetry.rrcbp`."""

    def __init__(self) -> None:
        self.sigma_every = 100

    @hookimpl
    def configure(self, config: Any) -> None:
        every = config.telemetry.rrcbp.sigma_every
        if every < 1:
            raise ConfigError("telemetry.rrcbp.sigma_every", every, "an integer >= 1")
        self.sigma_every = every

    @hookimpl
    def declare_metrics(self, ctx: RunContext) -> List[str]:
        if not isinstance(ctx.learner, ContinuousBackpropLearner):
            raise ConfigError("telemetry.plugins", "rrcbp", f"learner=cbp or learner=rr_cbp (this run's learner is {ctx.config.learner.type})")
        return [f"rrcbp/{layer}/{name}" for layer in ctx.learner.unit_layer_names for name in EVENT_FIELDS + SIGMA_FIELDS]

    @hookimpl
    def on_step_end(self, ctx: RunContext) -> None:
        learner = ctx.learner
        records = {f"rrcbp/{event.layer}/{name}": float(getattr(event, name)) for event in learner.last_events for name in EVENT_FIELDS}
        if ctx.step % self.sigma_every == 0:
            for layer in learner.unit_layer_names:
                eigenvalues = torch.linalg.eigvalsh(learner.input_covariance(layer))
                records[f"rrcbp/{layer}/sigma_lambda_min"] = eigenvalues[0].item()
                records[f"rrcbp/{layer}/sigma_condition"] = (eigenvalues[-1] / eigenvalues[0]).item()
        if records:
            ctx.log(records)
