"""`ranktrace-analyze PATH --out DIR`: summaries and figures of one run file or a sweep directory."""
import argparse
import json
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import List, Optional, Sequence

from src.analysis.plots import plot_mean_std, plot_run
from src.analysis.run_file import load_run
from src.analysis.summary import summarize
from src.analysis.sweep import find_runs, mean_std_curves, summary_table, to_markdown

SWEEP_SERIES = (
    "eval/test_acc",
    "eval/train_acc",
    "eval/test_loss",
    "rank/*/act/effective_rank",
    "rrcbp/*/lambda_min_after",
    "rrcbp/*/sigma_condition",
)
LOG_Y = ("loss", "condition", "lambda_min")


def analyze_run(path: Path, out: Path, threshold: float) -> List[Path]:
    """summary.json and the figures of one run file."""
    run = load_run(path)
    (out / "summary.json").write_text(json.dumps(summarize(run, threshold), indent=2, default=str))
    return [out / "summary.json", *plot_run(run, out, threshold)]


def analyze_sweep(directory: Path, out: Path, threshold: float, patterns: Sequence[str] = SWEEP_SERIES, bin_steps: int = 100) -> List[Path]:
    """summary.csv, summary.md and a mean ± std figure per series matching `patterns`."""
    runs = find_runs(directory)
    if not runs:
        raise SystemExit(f"ranktrace-analyze: no *.h5 run files below {directory}")
    table = summary_table(runs, threshold)
    table.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(to_markdown(table))
    written = [out / "summary.csv", out / "summary.md"]
    keys = sorted({key for run in runs for key in run.series if any(fnmatchcase(key, p) for p in patterns)})
    for key in keys:
        curves = mean_std_curves(runs, key, bin_steps)
        if curves:
            name = "sweep_" + key.replace("/", "_") + ".png"
            log_y = any(word in key for word in LOG_Y)
            written.append(plot_mean_std(curves, out / name, f"{key}: mean ± std over runs", key.rsplit("/", 1)[1], log_y))
    return written


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="ranktrace-analyze", description=__doc__)
    parser.add_argument("path", type=Path, help="a run file (.h5) or a directory of runs (a Hydra multirun)")
    parser.add_argument("--out", type=Path, required=True, help="directory for tables and PNG figures")
    parser.add_argument("--threshold", type=float, default=0.99, help="accuracy that counts as memorized / grokked")
    parser.add_argument("--series", nargs="*", default=[], help="more metric-key globs to plot for a sweep")
    parser.add_argument("--bin", type=int, default=100, help="sweep curves: steps per bin (0: exact steps)")
    args = parser.parse_args(argv)
    if not args.path.exists():
        parser.error(f"{args.path} does not exist")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.path.is_dir():
        written = analyze_sweep(args.path, args.out, args.threshold, [*SWEEP_SERIES, *args.series], args.bin)
    else:
        written = analyze_run(args.path, args.out, args.threshold)
    for path in written:
        print(path)


if __name__ == "__main__":
    sys.exit(main())
