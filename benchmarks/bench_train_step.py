"""Median ms per training step: the trainer with its events versus a bare PyTorch loop.

Both train the same model on the same device-resident data with the same batching; the
ratio trainer/bare is the framework's overhead. Per-step time is the gap between
consecutive step starts, so batching, logging and every event are inside it.

    python benchmarks/bench_train_step.py [--steps 60] [--repeats 3] [--plugins console]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F

from configs.loading import load_experiment_config
from src.algos.optimizers import build_optimizer
from src.data_loading.dataset_factory import dataset_factory
from src.models.model_factory import model_factory
from src.telemetry import hookimpl
from src.training.experiment import resolve_device, run_experiment

MODEL_TYPES = ("GrokkingTransformer_pytorch_manual_implementation", "GrokkingTransformer_pytorch_implementation")


class StepClock:
    """Timestamps every step start; the differences are whole-step times."""

    def __init__(self) -> None:
        self.starts: List[float] = []

    @hookimpl
    def on_step_start(self) -> None:
        self.starts.append(time.perf_counter())

    def step_ms(self) -> List[float]:
        return [1e3 * (b - a) for a, b in zip(self.starts[1:], self.starts[2:])]  # first step is warm-up


def trainer_step_ms(raw: Dict[str, Any], plugins: List[str], steps: int) -> List[float]:
    clock = StepClock()
    cfg = load_experiment_config({**raw, "telemetry": {"plugins": plugins}})
    run_experiment(cfg, Path("/tmp"), extra_plugins={"clock": clock})
    return clock.step_ms()[:steps]


def bare_step_ms(raw: Dict[str, Any], steps: int) -> List[float]:
    cfg = load_experiment_config(raw)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    train, _ = dataset_factory(cfg.data)
    inputs, targets = train.inputs.to(device), train.targets.to(device)
    model = model_factory(cfg.net).to(device)
    optimizer = build_optimizer(model.parameters(), cfg.learner)
    batch = cfg.training.batch_size or len(targets)
    starts: List[float] = []
    generator = torch.Generator().manual_seed(cfg.seed)
    while len(starts) < steps + 2:
        for idx in torch.randperm(len(targets), generator=generator).to(device).split(batch):
            starts.append(time.perf_counter())
            logits = model(inputs[idx])[:, -1]
            loss = F.cross_entropy(logits, targets[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return [1e3 * (b - a) for a, b in zip(starts[1:], starts[2:])][:steps]


def config_for(model_type: str, batch_size: Optional[int], steps: int, device: str) -> Dict[str, Any]:
    n_train = round(0.5 * 113 * 113)
    per_epoch = -(-n_train // (batch_size or n_train))
    return {
        "device": device,
        "net": {"type": model_type},
        "training": {"batch_size": batch_size, "epochs": -(-(steps + 2) // per_epoch), "eval_every": 10**9},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="timed steps at batch 512 (full batch: a sixth)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plugins", nargs="*", default=[], help="plugins enabled in the trainer runs")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {resolve_device(args.device)}, plugins {args.plugins}")
    print(f"{'model':<10} {'batch':>6} {'trainer ms':>11} {'bare ms':>9} {'ratio':>7}")
    for model_type in MODEL_TYPES:
        for batch_size in (512, None):
            steps = args.steps if batch_size else max(args.steps // 6, 5)
            raw = config_for(model_type, batch_size, steps, args.device)
            framework, bare = [], []
            for _ in range(args.repeats):  # interleaved, so drift hits both alike
                framework += trainer_step_ms(raw, args.plugins, steps)
                bare += bare_step_ms(raw, steps)
            f_ms, b_ms = statistics.median(framework), statistics.median(bare)
            name = "manual" if "manual" in model_type else "standard"
            print(f"{name:<10} {batch_size or 'full':>6} {f_ms:>11.2f} {b_ms:>9.2f} {f_ms / b_ms:>6.3f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
