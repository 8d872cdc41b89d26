"""ms per training step for backprop, CBP and RR-CBP on the same model, with ratios to backprop.

Steps are timed after the units mature (`maturity_threshold`), so replacements happen; the mean
includes the replacement steps, the median shows a typical step. Repeats are interleaved.

    python benchmarks/bench_rrcbp.py [--steps 300] [--repeats 3] [--rate 1e-4] [--n-layers 2]
"""
import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from bench_train_step import StepClock
from plugin_overhead import STEPS_PER_EPOCH_AT_512
from configs.loading import load_experiment_config
from src.training.experiment import run_experiment

LEARNERS = {
    "backprop": {"_target_": "configs.configurations.BackpropConfig", "type": "backprop"},
    "cbp": {"_target_": "configs.configurations.ContinuousBackpropConfig", "type": "cbp"},
    "rr_cbp": {"_target_": "configs.configurations.RRContinuousBackpropConfig", "type": "rr_cbp"},
}


def step_times(learner: Dict[str, Any], steps: int, n_layers: int) -> List[float]:
    raw = {
        "device": "cpu",
        "net": {"n_layers": n_layers},
        "learner": learner,
        "training": {"epochs": -(-steps // STEPS_PER_EPOCH_AT_512), "eval_every": 10**9},
        "telemetry": {"plugins": []},
    }
    clock = StepClock()
    with tempfile.TemporaryDirectory() as run_dir:
        run_experiment(load_experiment_config(raw), Path(run_dir), extra_plugins={"clock": clock})
    return clock.step_ms()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1e-4, help="neurons_replacement_rate (the default is 1e-4)")
    parser.add_argument("--maturity", type=int, default=100)
    parser.add_argument("--n-layers", type=int, default=2)
    args = parser.parse_args()
    times: Dict[str, List[float]] = {name: [] for name in LEARNERS}
    for _ in range(args.repeats):
        for name, learner in LEARNERS.items():
            fields = {} if name == "backprop" else {"neurons_replacement_rate": args.rate, "maturity_threshold": args.maturity}
            times[name] += step_times({**learner, **fields}, args.steps, args.n_layers)[args.maturity :]
    base_mean, base_median = statistics.mean(times["backprop"]), statistics.median(times["backprop"])
    print(f"{args.n_layers} layer(s), batch 512, rate {args.rate}, maturity {args.maturity}, steps after maturity timed")
    print(f"{'learner':<9} {'mean ms':>8} {'median ms':>10} {'mean ratio':>11} {'median ratio':>13}")
    for name, values in times.items():
        mean, median = statistics.mean(values), statistics.median(values)
        print(f"{name:<9} {mean:>8.2f} {median:>10.2f} {mean / base_mean:>10.3f}x {median / base_median:>12.3f}x")


if __name__ == "__main__":
    main()
