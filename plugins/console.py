"""The progress bar: steps, train loss, the latest evaluation and, when the `rank` plugin runs,
the mean activation effective rank of its layers; a summary line at the end."""
import sys
from typing import Any, Dict, Mapping, Optional

from tqdm import tqdm

from src.telemetry import RunContext, hookimpl

EFFECTIVE_RANK_SUFFIX = "/act/effective_rank"
SHOWN = {
    "train/loss": "loss",
    "eval/train_acc": "train_acc",
    "eval/test_loss": "test_loss",
    "eval/test_acc": "test_acc",
}


def _format(value: float) -> str:
    return f"{value:.3f}" if 1e-3 <= abs(value) < 1e4 or value == 0 else f"{value:.2e}"


class ConsolePlugin:
    """Shows a tqdm bar on stderr and prints the final metrics on stdout."""

    def __init__(self) -> None:
        self.bar: Optional[tqdm] = None
        self.refresh_seconds = 0.5
        self.latest: Dict[str, float] = {}

    @hookimpl
    def configure(self, config: Any) -> None:
        self.refresh_seconds = config.telemetry.console.refresh_seconds

    @hookimpl(tryfirst=True)
    def on_run_start(self, ctx: RunContext) -> None:
        self.bar = tqdm(
            total=ctx.total_steps, unit="step", mininterval=self.refresh_seconds, file=sys.stderr, dynamic_ncols=True
        )

    @hookimpl
    def on_step_end(self) -> None:
        self.bar.update(1)

    @hookimpl
    def on_records(self, records: Mapping[str, float]) -> None:
        ranks = [value for key, value in records.items() if key.endswith(EFFECTIVE_RANK_SUFFIX)]
        if ranks:
            self.latest["eff_rank"] = sum(ranks) / len(ranks)
        shown = records.keys() & SHOWN.keys()
        self.latest.update({SHOWN[key]: records[key] for key in shown})
        if "eval/test_acc" in shown:
            self.bar.set_postfix({name: _format(value) for name, value in self.latest.items()}, refresh=False)

    @hookimpl(trylast=True)
    def on_run_end(self, ctx: RunContext, status: str) -> None:
        if self.bar is None:
            return
        self.bar.close()
        last = ctx.last_records
        parts = [f"{key} {_format(last[key])}" for key in ("eval/train_loss", "eval/train_acc", "eval/test_loss", "eval/test_acc") if key in last]
        if "eff_rank" in self.latest:
            parts.append(f"mean act effective_rank {_format(self.latest['eff_rank'])}")
        reason = f" ({ctx.stop_reason})" if ctx.stop_reason else ""
        print(f"[{status}] step {ctx.step}{reason}: " + " | ".join(parts), flush=True)
