"""PNG figures of one run or of a sweep: curves on a log step axis, memorisation and grokking marked."""
from pathlib import Path
from typing import Dict, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from src.analysis.run_file import Run  # noqa: E402
from src.analysis.summary import summarize  # noqa: E402

LOSS_KEYS = ("train/loss", "eval/train_loss", "eval/test_loss")
ACC_KEYS = ("eval/train_acc", "eval/test_acc")


def _mark(ax: plt.Axes, memorize: Optional[int], grok: Optional[int]) -> None:
    if memorize:
        ax.axvline(memorize, color="tab:blue", linestyle="--", linewidth=1, label=f"memorized @ {memorize}")
    if grok:
        ax.axvline(grok, color="tab:red", linestyle="--", linewidth=1, label=f"grokked @ {grok}")


def _positive(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["step"] > 0]  # a log axis has no step 0


def plot_training_curves(run: Run, path: Path, threshold: float = 0.99) -> Path:
    """Loss (log) and accuracy against steps (log)."""
    summary = summarize(run, threshold)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for keys, ax, ylabel in ((LOSS_KEYS, loss_ax, "loss"), (ACC_KEYS, acc_ax, "accuracy")):
        for key in keys:
            if key in run.series:
                frame = _positive(run.series[key])
                ax.plot(frame["step"], frame["value"], label=key, alpha=0.4 if key == "train/loss" else 1.0)
        _mark(ax, summary["steps_to_memorize"], summary["steps_to_grok"])
        ax.set_xscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    loss_ax.set_yscale("log")
    fig.suptitle(f"{run.path.name} ({run.status})")
    return _save(fig, path)


def plot_rank_curves(run: Run, path: Path, measure: str = "effective_rank", threshold: float = 0.99) -> Path:
    """One panel per kind (act, weight, grad), one line per layer, of rank `measure`."""
    summary = summarize(run, threshold)
    by_kind: Dict[str, Dict[str, pd.DataFrame]] = {}
    for key, frame in run.series.items():
        parts = key.split("/")
        if parts[0] == "rank" and parts[-1] == measure:
            by_kind.setdefault(parts[-2], {})[parts[1]] = frame
    kinds = [kind for kind in ("act", "weight", "grad") if kind in by_kind]
    fig, axes = plt.subplots(1, max(len(kinds), 1), figsize=(6 * max(len(kinds), 1), 4.5), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for layer, frame in sorted(by_kind[kind].items()):
            frame = _positive(frame)
            ax.plot(frame["step"], frame["value"], marker=".", label=layer)
        _mark(ax, summary["steps_to_memorize"], summary["steps_to_grok"])
        ax.set_xscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_title(f"{kind} {measure}")
        ax.legend(fontsize=7)
    if not kinds:
        axes[0][0].text(0.5, 0.5, f"no rank/*/{measure} series in this run", ha="center")
    return _save(fig, path)


def plot_mean_std(curves: Dict[str, pd.DataFrame], path: Path, title: str, ylabel: str, log_y: bool = False) -> Path:
    """Mean ± std across runs per label; each frame has columns step, mean, std."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, frame in curves.items():
        frame = _positive(frame)
        ax.plot(frame["step"], frame["mean"], label=label)
        ax.fill_between(frame["step"], frame["mean"] - frame["std"], frame["mean"] + frame["std"], alpha=0.2)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_run(run: Run, out_dir: Path, threshold: float = 0.99, measures: Sequence[str] = ("effective_rank",)) -> list:
    """The training curves and one rank figure per measure of one run."""
    paths = [plot_training_curves(run, out_dir / "training_curves.png", threshold)]
    paths += [plot_rank_curves(run, out_dir / f"rank_{measure}.png", measure, threshold) for measure in measures]
    return paths
