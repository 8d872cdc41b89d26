"""A directory of runs (a Hydra multirun): one summary table, mean ± std curves per configuration."""
import json
from pathlib import Path
from typing import Any, Dict, List

import pandas as pd

from src.analysis.run_file import Run, load_run
from src.analysis.summary import summarize

TABLE_COLUMNS = ("steps_to_memorize", "steps_to_grok", "grok_gap", "final/eval/train_acc", "final/eval/test_acc", "final/eval/test_loss")


def find_runs(directory: Path) -> List[Run]:
    """Every run file below `directory`, in path order."""
    return [load_run(path) for path in sorted(Path(directory).rglob("*.h5"))]


def _flatten(config: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, list) else value
    return flat


def _labels_key(key: str) -> bool:
    """Keys that tell configurations apart: not the seed, not `_target_`, not the observers."""
    return key != "seed" and not key.endswith("_target_") and not key.startswith("telemetry.")


def configuration_labels(runs: List[Run]) -> List[str]:
    """A label per run naming the config values that differ across runs (keys every run has;
    seeds, `_target_` and telemetry left out), e.g. `learner.type=cbp`."""
    flats = [_flatten(run.config) for run in runs]
    shared = set.intersection(*(set(flat) for flat in flats)) if flats else set()
    varying = [k for k in sorted(shared) if _labels_key(k) and len({str(flat[k]) for flat in flats}) > 1]
    return [", ".join(f"{k}={flat.get(k)}" for k in varying) or "all runs" for flat in flats]


def summary_table(runs: List[Run], threshold: float = 0.99) -> pd.DataFrame:
    """One row per run: where it is, its configuration label, seed, status, the grokking figures
    and, for RR-CBP runs, the totals of replaced, saturated and fallback units."""
    rows = []
    for run, label in zip(runs, configuration_labels(runs)):
        summary = summarize(run, threshold)
        totals = {key.removeprefix("rrcbp/"): value for key, value in summary.items() if key.endswith("_total")}
        rows.append(
            {"run": str(run.path), "configuration": label, "seed": run.config.get("seed"), "status": summary["status"]}
            | {column: summary[column] for column in TABLE_COLUMNS}
            | totals
        )
    return pd.DataFrame(rows)


def _binned(frame: pd.DataFrame, bin_steps: int) -> pd.Series:
    """Values by step; with bin_steps > 0, the last value within each bin, at the bin's end."""
    frame = frame.drop_duplicates("step", keep="last")
    if bin_steps > 0:
        frame = frame.assign(step=-(-frame["step"] // bin_steps) * bin_steps).drop_duplicates("step", keep="last")
    return frame.set_index("step")["value"]


def mean_std_curves(runs: List[Run], key: str, bin_steps: int = 0) -> Dict[str, pd.DataFrame]:
    """Per configuration, the mean and std of series `key` across its runs, step by step
    (binned to `bin_steps` when series are event-driven and their steps differ between runs)."""
    grouped: Dict[str, List[pd.Series]] = {}
    for run, label in zip(runs, configuration_labels(runs)):
        if key in run.series and len(run.series[key]):
            grouped.setdefault(label, []).append(_binned(run.series[key], bin_steps))
    curves = {}
    for label, series in grouped.items():
        table = pd.concat(series, axis=1)
        curves[label] = pd.DataFrame({"mean": table.mean(axis=1), "std": table.std(axis=1, ddof=0)}).reset_index()
    return curves


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table (no extra dependency)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.4g}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
