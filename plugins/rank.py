"""Rank telemetry of named Linear layers: activations, weights and gradients.

On a measuring step (every `telemetry.rank.every` steps, and once more at the end of a
finished run) the plugin, before the optimizer step changes anything:
- attaches forward hooks to the selected layers, runs one no-grad pass over a fixed probe set
  drawn once from the train split, removes the hooks, and measures the outputs
  (`rank/<layer>/act/<measure>`);
- measures each weight matrix (`rank/<layer>/weight/<measure>`);
- attaches post-accumulate-grad hooks to the weights for this step's backward and measures
  the gradients at step end (`rank/<layer>/grad/<measure>`, plus `frobenius_norm`).
Records carry the step whose model state they describe. Between measuring steps no hook is
attached anywhere; hooks are removed when the step raises too.
"""
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from src.telemetry import ConfigError, RunContext, hookimpl
from src.telemetry.layer_selection import select_linear_layers
from src.telemetry.rank_measures import MEASURES, compute_all_rank_measures_list

FOLDS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "flatten": lambda out: out.reshape(out.shape[0], -1),  # (B, T*C): one row per sample
    "last": lambda out: out[:, -1] if out.dim() == 3 else out,  # (B, C): the answer position
    "tokens": lambda out: out.reshape(-1, out.shape[-1]),  # (B*T, C): one row per token
}
KINDS = ("act", "weight", "grad")


def _activation_source(model: nn.Module, name: str, layer: nn.Linear) -> Tuple[nn.Module, Callable[[Any], torch.Tensor]]:
    """Where a layer's output can be caught by a forward hook.

    `nn.MultiheadAttention` applies its `out_proj` functionally, so a hook on `out_proj`
    never fires; its own first output is exactly `out_proj`'s output, so hook the parent.
    """
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if child == "out_proj" and isinstance(parent, nn.MultiheadAttention):
        return parent, lambda output: output[0]
    return layer, lambda output: output


class RankPlugin:
    """The built-in `rank` plugin; options under `telemetry.rank`."""

    def __init__(self) -> None:
        self.options: Any = None
        self.layers: Dict[str, nn.Linear] = {}
        self.probe: Optional[torch.Tensor] = None
        self.grad_handles: List[Any] = []
        self.grads: Dict[str, torch.Tensor] = {}
        self.measured_step: Optional[int] = None

    @hookimpl
    def configure(self, config: Any) -> None:
        opts = config.telemetry.rank
        if opts.every < 1:
            raise ConfigError("telemetry.rank.every", opts.every, "an integer >= 1")
        if opts.probe_size < 1:
            raise ConfigError("telemetry.rank.probe_size", opts.probe_size, "an integer >= 1")
        if opts.fold not in FOLDS:
            raise ConfigError("telemetry.rank.fold", opts.fold, f"one of {list(FOLDS)}")
        if not set(opts.kinds) <= set(KINDS) or not opts.kinds:
            raise ConfigError("telemetry.rank.kinds", list(opts.kinds), f"a non-empty subset of {list(KINDS)}")
        for key in ("approximate_threshold", "l1_threshold"):
            if not 0.0 < getattr(opts, key) <= 1.0:
                raise ConfigError(f"telemetry.rank.{key}", getattr(opts, key), "a number in (0, 1]")
        if opts.numerical_eps <= 0:
            raise ConfigError("telemetry.rank.numerical_eps", opts.numerical_eps, "a number > 0")
        self.options = opts

    @hookimpl
    def declare_metrics(self, ctx: RunContext) -> List[str]:
        self.layers = select_linear_layers(ctx.model, self.options.layers, key="telemetry.rank.layers")
        keys = []
        for name in self.layers:
            for kind in self.options.kinds:
                keys += [f"rank/{name}/{kind}/{measure}" for measure in MEASURES]
            if "grad" in self.options.kinds:
                keys.append(f"rank/{name}/grad/frobenius_norm")
        return keys

    @hookimpl
    def on_run_start(self, ctx: RunContext) -> None:
        n = len(ctx.train.targets)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(ctx.config.seed))
        self.probe = ctx.train.inputs[order[: self.options.probe_size].to(ctx.device)]

    @hookimpl
    def on_step_start(self, ctx: RunContext) -> None:
        if ctx.step % self.options.every:
            return
        self._measure_state(ctx)
        if "grad" in self.options.kinds:
            self.grads = {}
            self.grad_handles = [
                layer.weight.register_post_accumulate_grad_hook(partial(self._keep_grad, name))
                for name, layer in self.layers.items()
            ]

    @hookimpl
    def on_step_end(self, ctx: RunContext) -> None:
        if not self.grad_handles:
            return
        self._remove_grad_hooks()
        names = [name for name in self.layers if name in self.grads]
        records = self._measure([self.grads[name] for name in names], names, ["grad"] * len(names))
        records.update({f"rank/{name}/grad/frobenius_norm": self.grads[name].norm().item() for name in names})
        self.grads = {}
        ctx.log(records, step=self.measured_step)

    @hookimpl
    def on_exception(self) -> None:
        self._remove_grad_hooks()

    @hookimpl
    def on_run_end(self, ctx: RunContext, status: str) -> None:
        self._remove_grad_hooks()
        if status == "finished" and self.measured_step != ctx.step:
            self._measure_state(ctx)

    def _keep_grad(self, name: str, param: torch.Tensor) -> None:
        self.grads[name] = param.grad.detach().clone()

    def _remove_grad_hooks(self) -> None:
        for handle in self.grad_handles:
            handle.remove()
        self.grad_handles = []

    def _measure_state(self, ctx: RunContext) -> None:
        """Measure activations on the probe and the weights, as the model is now."""
        self.measured_step = ctx.step
        matrices, names, kinds = [], [], []
        sources: Dict[str, Dict[str, torch.Tensor]] = {}
        if "act" in self.options.kinds:
            sources["act"] = self.probe_activations(ctx.model)
        if "weight" in self.options.kinds:
            sources["weight"] = {name: layer.weight for name, layer in self.layers.items()}
        for kind, by_layer in sources.items():
            for name, matrix in by_layer.items():
                matrices.append(matrix)
                names.append(name)
                kinds.append(kind)
        if matrices:
            ctx.log(self._measure(matrices, names, kinds))

    def probe_activations(self, model: nn.Module) -> Dict[str, torch.Tensor]:
        """Outputs of the selected layers on the probe set, folded into rows; no hook is left."""
        fold, captured = FOLDS[self.options.fold], {}

        def capture(name: str, extract: Callable[[Any], torch.Tensor], module: nn.Module, args: Any, output: Any) -> None:
            captured[name] = fold(extract(output))

        handles = []
        try:
            for name, layer in self.layers.items():
                module, extract = _activation_source(model, name, layer)
                handles.append(module.register_forward_hook(partial(capture, name, extract)))
            was_training = model.training
            model.eval()
            with torch.no_grad():
                model(self.probe)
            model.train(was_training)
        finally:
            for handle in handles:
                handle.remove()
        return {name: captured[name] for name in self.layers if name in captured}

    def _measure(self, matrices: List[torch.Tensor], names: List[str], kinds: List[str]) -> Dict[str, float]:
        labels = [f"{name} ({kind})" for name, kind in zip(names, kinds)]
        opts = self.options
        results = compute_all_rank_measures_list(
            matrices, labels, opts.approximate_threshold, opts.l1_threshold, opts.numerical_eps
        )
        return {
            f"rank/{name}/{kind}/{measure}": value
            for name, kind, result in zip(names, kinds, results)
            for measure, value in result.items()
        }
