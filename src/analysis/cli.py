"""`ranktrace-analyze PATH --out DIR`: summaries and figures of one run file or a sweep directory."""
import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import pandas as pd

from src.analysis.plots import plot_mean_std, plot_run
from src.analysis.run_file import load_run
from src.analysis.summary import summarize
from src.analysis.sweep import find_runs, mean_std_curves, summary_table, to_markdown


def analyze_run(path: Path, out: Path, threshold: float) -> List[Path]:
    run = load_run(path)
    summary = summarize(run, threshold)
    written = [out / "summary.json"]
    written[0].write_text(json.dumps(summary, indent=2, default=str))
    return written + plot_run(run, out, threshold)


def analyze_sweep(directory: Path, out: Path, threshold: float) -> List[Path]:
    runs = find_runs(directory)
    if not runs:
        raise SystemExit(f"ranktrace-analyze: no *.h5 run files below {directory}")
    table = summary_table(runs, threshold)
    table.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(to_markdown(table))
    written = [out / "summary.csv", out / "summary.md"]
    for key, name, log_y in (("eval/test_acc", "test_acc", False), ("eval/train_acc", "train_acc", False), ("eval/test_loss", "test_loss", True)):
        curves = mean_std_curves(runs, key)
        if curves:
            written.append(plot_mean_std(curves, out / f"sweep_{name}.png", f"{key}: mean ± std over seeds", key, log_y))
    rank_keys = sorted({k for run in runs for k in run.series if k.startswith("rank/") and k.endswith("/act/effective_rank")})
    for key in rank_keys:
        layer = key.split("/")[1]
        written.append(plot_mean_std(mean_std_curves(runs, key), out / f"sweep_rank_{layer}.png", f"{key}: mean ± std", "effective rank"))
    return written


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="ranktrace-analyze", description=__doc__)
    parser.add_argument("path", type=Path, help="a run file (.h5) or a directory of runs (a Hydra multirun)")
    parser.add_argument("--out", type=Path, required=True, help="directory for tables and PNG figures")
    parser.add_argument("--threshold", type=float, default=0.99, help="accuracy that counts as memorized / grokked")
    args = parser.parse_args(argv)
    if not args.path.exists():
        parser.error(f"{args.path} does not exist")
    args.out.mkdir(parents=True, exist_ok=True)
    analyze = analyze_sweep if args.path.is_dir() else analyze_run
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for path in analyze(args.path, args.out, args.threshold):
            print(path)


if __name__ == "__main__":
    sys.exit(main())
