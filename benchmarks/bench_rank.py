"""What the `rank` plugin costs.

(a) Rank math on the probe matrices of one measuring step at the default settings
    (activations of a real probe pass, weights, and gradients of the selected layers):
    `compute_all_rank_measures_list` (float64 Gram) versus the same measures from float32
    `torch.linalg.svdvals` of each matrix.
(b) Training time of a fixed number of steps with `rank` at its default cadence versus without.
Medians of repeats, interleaved; ratios printed.

    python benchmarks/bench_rank.py [--repeats 5] [--steps 400] [--n-layers 2]
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List

import torch

from configs.loading import load_experiment_config
from plugins.rank import RankPlugin
from src.telemetry import hookimpl
from src.telemetry.rank_measures import compute_all_rank_measures_list, measures_from_singular_values
from src.training.experiment import run_experiment


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


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    for _ in range(args.repeats):
        t_gram.append(median_seconds(gram, 1))
        t_svd.append(median_seconds(svd, 1))
    g, s = statistics.median(t_gram), statistics.median(t_svd)
    print(f"(a) rank math, {len(matrices)} matrices of shapes {shapes}")
    print(f"    float64 Gram eigvalsh {1e3 * g:.1f} ms | float32 svdvals {1e3 * s:.1f} ms | speed-up {s / g:.2f}x")

    steps_per_epoch = -(-round(0.5 * 113 * 113) // 512)
    training = {"epochs": -(-args.steps // steps_per_epoch), "eval_every": 10**9}
    with_rank = load_experiment_config({**base, "training": training, "telemetry": {"plugins": ["rank"]}})
    without = load_experiment_config({**base, "training": training, "telemetry": {"plugins": []}})
    t_with, t_without = [], []
    for _ in range(max(args.repeats // 2, 2)):
        t_without.append(median_seconds(lambda: run_experiment(without, Path("/tmp")), 1))
        t_with.append(median_seconds(lambda: run_experiment(with_rank, Path("/tmp")), 1))
    w, wo = statistics.median(t_with), statistics.median(t_without)
    steps = training["epochs"] * steps_per_epoch
    print(f"(b) {steps} training steps, {args.n_layers} layer(s), rank every {with_rank.telemetry.rank.every} steps")
    print(f"    with rank {w:.2f} s | without {wo:.2f} s | ratio {w / wo:.3f}x")


if __name__ == "__main__":
    main()
