"""Training time with a set of plugins versus without them, same run, interleaved repeats.

Used by bench_rank.py and bench_hdf5.py; run alone to time any plugins:

    python benchmarks/plugin_overhead.py hdf5 rank [--steps 400] [--repeats 3]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from configs.loading import load_experiment_config
from src.training.experiment import run_experiment

STEPS_PER_EPOCH_AT_512 = -(-round(0.5 * 113 * 113) // 512)


def _timed_run(raw: Dict[str, Any]) -> float:
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = load_experiment_config(raw)
        start = time.perf_counter()
        run_experiment(cfg, Path(run_dir))
        return time.perf_counter() - start


def compare_plugin_overhead(
    plugins: Sequence[str], steps: int = 400, repeats: int = 3, base: Dict[str, Any] = {}
) -> Tuple[float, float, int]:
    """Median seconds with `plugins`, without any, and the number of steps trained."""
    epochs = -(-steps // STEPS_PER_EPOCH_AT_512)
    raw = {"device": "cpu", **base, "training": {"epochs": epochs, "eval_every": 100}}
    with_times: List[float] = []
    without_times: List[float] = []
    for _ in range(repeats):
        without_times.append(_timed_run({**raw, "telemetry": {"plugins": []}}))
        with_times.append(_timed_run({**raw, "telemetry": {"plugins": list(plugins)}}))
    return statistics.median(with_times), statistics.median(without_times), epochs * STEPS_PER_EPOCH_AT_512


def report(plugins: Sequence[str], steps: int, repeats: int, base: Dict[str, Any] = {}) -> None:
    """Print the comparison as one line with its ratio."""
    with_s, without_s, trained = compare_plugin_overhead(plugins, steps, repeats, base)
    print(f"{trained} steps, eval every 100, median of {repeats}: with {list(plugins)} {with_s:.2f} s | without {without_s:.2f} s | ratio {with_s / without_s:.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plugins", nargs="+")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    report(args.plugins, args.steps, args.repeats)


if __name__ == "__main__":
    main()
