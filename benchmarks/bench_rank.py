"""What the `rank` plugin costs.

(a) Rank math on the probe matrices of one measuring step at the default settings
    (activations of a real probe pass, weights, and gradients of the selected layers):
    `compute_all_rank_measures_list` (float64 Gram) versus the same measures from float32
    `torch.linalg.svdvals` of each matrix.
(b) Training time of a fixed number of steps with `rank` at its default cadence versus without
    (benchmarks/plugin_overhead.py). Medians of interleaved repeats; ratios printed.

    python benchmarks/bench_rank.py [--repeats 5] [--steps 400] [--n-layers 2]
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import torch

from configs.loading import load_experiment_config
from plugins.rank import RankPlugin
from src.telemetry import hookimpl
from src.telemetry.rank_measures import compute_all_rank_measures_list, measures_from_singular_values
from src.training.experiment import run_experiment

from plugin_overhead import report


class ProbeMatrices:
    """Captures the matrices `rank` measures on step 0 by running its own private copy."""

    def __init__(self) -> None:
        self.matrices: List[torch.Tensor] = []

    @hookimpl
    def on_run_start(self, ctx: Any) -> None:
        plugin = RankPlugin()
        plugin.configure(config=ctx.config)
        plugin.declare_metrics(ctx=ctx)
        plugin.on_run_start(ctx=ctx)
        self.matrices += plugin.probe_activations(ctx.model).values()
        self.matrices += [layer.weight.detach().clone() for layer in plugin.layers.values()]
        ctx.model.zero_grad()
        ctx.learner.learn(ctx.train.inputs[:512], ctx.train.targets[:512])
        self.matrices += [layer.weight.grad.detach().clone() for layer in plugin.layers.values()]
        ctx.request_stop("captured")


def seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400, help="training steps in part (b)")
    parser.add_argument("--n-layers", type=int, default=2)
    args = parser.parse_args()
    base: Dict[str, Any] = {"device": "cpu", "net": {"n_layers": args.n_layers}}

    capture = ProbeMatrices()
    run_experiment(load_experiment_config({**base, "telemetry": {"plugins": []}}), Path("/tmp"), {"capture": capture})
    matrices = capture.matrices
    shapes = sorted({tuple(m.shape) for m in matrices})
    gram = lambda: compute_all_rank_measures_list(matrices)  # noqa: E731
    svd = lambda: [measures_from_singular_values(torch.linalg.svdvals(m.float())) for m in matrices]  # noqa: E731
    gram(), svd()
    t_gram, t_svd = [], []
    for _ in range(args.repeats):  # interleaved, so drift hits both alike
        t_gram.append(seconds(gram))
        t_svd.append(seconds(svd))
    g, s = statistics.median(t_gram), statistics.median(t_svd)
    print(f"(a) rank math, {len(matrices)} matrices of shapes {shapes}")
    print(f"    float64 Gram eigvalsh {1e3 * g:.1f} ms | float32 svdvals {1e3 * s:.1f} ms | speed-up {s / g:.2f}x")

    print("(b) training with rank at its default cadence versus without:")
    report(["rank"], args.steps, max(args.repeats // 2, 2), {"net": {"n_layers": args.n_layers}})


if __name__ == "__main__":
    main()
