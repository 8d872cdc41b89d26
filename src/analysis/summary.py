"""The figures a grokking run is judged by: when it memorised, when it generalised."""
import math
from typing import Any, Dict, Optional

import pandas as pd

from src.analysis.run_file import Run

TRAIN_ACC, TEST_ACC = "eval/train_acc", "eval/test_acc"
COUNTED = ("replaced", "saturated", "fallbacks")  # rrcbp event counts, summed over the run
FINAL_KEYS = ("eval/train_loss", "eval/train_acc", "eval/test_loss", "eval/test_acc")


def first_step_reaching(frame: Optional[pd.DataFrame], threshold: float) -> Optional[int]:
    """The first step whose value is at least `threshold`, or None."""
    if frame is None:
        return None
    hits = frame.loc[frame["value"] >= threshold, "step"]
    return int(hits.iloc[0]) if len(hits) else None


def value_at(frame: pd.DataFrame, step: Optional[int]) -> float:
    """The last value measured at or before `step` (NaN when none, or step is None)."""
    if step is None:
        return math.nan
    before = frame.loc[frame["step"] <= step, "value"]
    return float(before.iloc[-1]) if len(before) else math.nan


def summarize(run: Run, threshold: float = 0.99) -> Dict[str, Any]:
    """Steps to memorise (train acc ≥ threshold) and to grok (test acc ≥ threshold), their gap,
    final losses and accuracies, every rank series at memorisation, grokking and the end, and
    the run's total of replaced, saturated and fallback units per MLP (RR-CBP)."""
    memorize = first_step_reaching(run.series.get(TRAIN_ACC), threshold)
    grok = first_step_reaching(run.series.get(TEST_ACC), threshold)
    summary: Dict[str, Any] = {
        "status": run.status,
        "steps_to_memorize": memorize,
        "steps_to_grok": grok,
        "grok_gap": grok - memorize if grok is not None and memorize is not None else None,
    }
    for key in FINAL_KEYS:
        frame = run.series.get(key)
        summary[f"final/{key}"] = float(frame["value"].iloc[-1]) if frame is not None and len(frame) else math.nan
    for key, frame in sorted(run.series.items()):
        if key.startswith("rrcbp/") and key.rsplit("/", 1)[1] in COUNTED:
            summary[f"{key}_total"] = int(frame["value"].sum())
        if key.startswith("rank/") and len(frame):
            summary[f"{key}@memorize"] = value_at(frame, memorize)
            summary[f"{key}@grok"] = value_at(frame, grok)
            summary[f"{key}@end"] = float(frame["value"].iloc[-1])
    return summary
