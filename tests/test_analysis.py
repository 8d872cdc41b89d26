"""Summaries, plots and sweep tables from run files."""
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from src.analysis import Run, summarize
from src.analysis.sweep import configuration_labels, find_runs, mean_std_curves, summary_table, to_markdown
from tests.conftest import TINY_OVERRIDES, run_entry_point

ANALYZE = Path(sys.executable).parent / "ranktrace-analyze"


def series(steps, values) -> pd.DataFrame:
    return pd.DataFrame({"step": steps, "value": values})


def synthetic_run(memorize: int, grok: int, seed: int = 0, n_layers: int = 1) -> Run:
    steps = list(range(0, 3001, 100))
    train_acc = [min(1.0, s / memorize) for s in steps]
    test_acc = [1.0 if s >= grok else 0.5 * s / grok for s in steps]
    rank_steps = list(range(0, 3001, 250))
    return Run(
        path=Path(f"synthetic_{seed}.h5"),
        config={"seed": seed, "net": {"n_layers": n_layers}},
        attrs={"status": "finished"},
        series={
            "eval/train_acc": series(steps, train_acc),
            "eval/test_acc": series(steps, test_acc),
            "eval/test_loss": series(steps, [1.0 - a for a in test_acc]),
            "rank/layers.0.mlp.0/act/effective_rank": series(rank_steps, [100.0 - s / 100 for s in rank_steps]),
        },
    )


def test_summarize_finds_memorization_and_grokking_steps():
    summary = summarize(synthetic_run(memorize=700, grok=2300))
    assert summary["steps_to_memorize"] == 700 and summary["steps_to_grok"] == 2300 and summary["grok_gap"] == 1600
    assert summary["final/eval/test_acc"] == 1.0 and summary["final/eval/test_loss"] == 0.0
    assert math.isnan(summary["final/eval/train_loss"])  # not in this run
    key = "rank/layers.0.mlp.0/act/effective_rank"
    assert summary[f"{key}@memorize"] == 100.0 - 500 / 100  # last measurement at or before step 700
    assert summary[f"{key}@grok"] == 100.0 - 2250 / 100
    assert summary[f"{key}@end"] == 100.0 - 3000 / 100


def test_summarize_a_run_that_never_groks():
    summary = summarize(synthetic_run(memorize=700, grok=10**6))
    assert summary["steps_to_grok"] is None and summary["grok_gap"] is None
    assert math.isnan(summary["rank/layers.0.mlp.0/act/effective_rank@grok"])


def test_sweep_table_labels_and_mean_std():
    runs = [synthetic_run(700, 2300, seed=0), synthetic_run(900, 2500, seed=1), synthetic_run(500, 1500, seed=0, n_layers=2)]
    assert configuration_labels(runs) == ["net.n_layers=1", "net.n_layers=1", "net.n_layers=2"]
    table = summary_table(runs)
    assert list(table["steps_to_grok"]) == [2300, 2500, 1500]
    curves = mean_std_curves(runs, "eval/train_acc")
    one_layer = curves["net.n_layers=1"].set_index("step")
    assert one_layer.loc[700, "mean"] == pytest.approx((1.0 + 700 / 900) / 2)
    assert one_layer.loc[700, "std"] == pytest.approx(abs(1.0 - 700 / 900) / 2)
    lines = to_markdown(table).splitlines()
    assert len(lines) == 2 + len(runs) and lines[1].startswith("|---|")
    assert "steps_to_grok" in lines[0].split(" | ") and "| 2300 |" in lines[2]


def test_analyze_a_real_run_and_a_two_seed_sweep(tmp_path):
    assert ANALYZE.exists()
    overrides = [*TINY_OVERRIDES, "telemetry.plugins=[rank,hdf5]", "telemetry.rank.every=3"]
    sweep = run_entry_point(["-m", "seed=0,1", *overrides, f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert sweep.returncode == 0, sweep.stderr
    assert len(find_runs(tmp_path / "sweep")) == 2

    single = subprocess.run([str(ANALYZE), str(tmp_path / "sweep" / "0" / "run.h5"), "--out", str(tmp_path / "one")], capture_output=True, text=True)
    assert single.returncode == 0, single.stderr
    for name in ("summary.json", "training_curves.png", "rank_effective_rank.png"):
        assert (tmp_path / "one" / name).stat().st_size > 1000 or name == "summary.json"

    many = subprocess.run([str(ANALYZE), str(tmp_path / "sweep"), "--out", str(tmp_path / "many")], capture_output=True, text=True)
    assert many.returncode == 0, many.stderr
    table = pd.read_csv(tmp_path / "many" / "summary.csv")
    assert sorted(table["seed"]) == [0, 1] and set(table["status"]) == {"finished"}
    for name in ("sweep_eval_test_acc.png", "sweep_eval_train_acc.png", "sweep_eval_test_loss.png", "sweep_rank_layers.0.mlp.0_act_effective_rank.png"):
        assert (tmp_path / "many" / name).stat().st_size > 1000
    assert (tmp_path / "many" / "summary.md").read_text().startswith("| run |")


def test_analyze_refuses_a_missing_path(tmp_path):
    result = subprocess.run([str(ANALYZE), str(tmp_path / "nope.h5"), "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0 and "does not exist" in result.stderr
