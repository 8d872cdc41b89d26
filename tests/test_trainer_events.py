"""What plugins see: the order of events, records, failures and stopping."""
import math
from typing import Any, List

import pytest

from src.telemetry import hookimpl
from src.training.early_stopping import EarlyStopping
from src.training.experiment import run_experiment
from tests.conftest import Recorder, tiny_config

STEP_EVENTS = ["on_step_start", "on_after_backward", "on_step_end"]


def test_event_order(tmp_path, recorder):
    cfg = tiny_config(training={"epochs": 2, "batch_size": 20, "eval_every": 4})
    steps_per_epoch = math.ceil(round(0.5 * 121) / 20)
    result = run_experiment(cfg, tmp_path, extra_plugins={"recorder": recorder})
    total = 2 * steps_per_epoch
    expected = [("configure", -1), ("declare_metrics", 0), ("on_run_start", 0), ("on_eval_end", 0)]
    for step in range(total):
        expected += [("on_step_start", step), ("on_after_backward", step), ("on_step_end", step + 1)]
        if (step + 1) % 4 == 0:
            expected.append(("on_eval_end", step + 1))
    if total % 4:
        expected.append(("on_eval_end", total))
    expected.append(("on_run_end:finished", total))
    assert recorder.events == expected
    assert result.status == "finished" and result.steps == total


def test_records_carry_slash_keys_with_their_own_steps(tmp_path, recorder):
    cfg = tiny_config(training={"epochs": 1, "batch_size": 16, "eval_every": 2})  # 60 train pairs: 4 steps
    run_experiment(cfg, tmp_path, extra_plugins={"r": recorder})
    loss_steps = [step for step, records in recorder.records if "train/loss" in records]
    eval_steps = [step for step, records in recorder.records if "eval/test_acc" in records]
    assert loss_steps == [1, 2, 3, 4]
    assert eval_steps == [0, 2, 4]
    evals = [records for _, records in recorder.records if "eval/test_acc" in records]
    assert set(evals[0]) == {"eval/train_loss", "eval/train_acc", "eval/test_loss", "eval/test_acc"}
    assert all(0.0 <= r["eval/test_acc"] <= 1.0 for r in evals)


class Exploding:
    """Raises in on_step_end at a given step."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    @hookimpl
    def on_step_end(self, ctx: Any) -> None:
        if ctx.step == self.at_step:
            raise ValueError("boom")

    @hookimpl
    def on_run_end(self, status: str) -> None:
        raise RuntimeError("a second fault while closing")


def test_a_failing_plugin_fails_the_run_but_every_plugin_is_told(tmp_path, recorder):
    with pytest.raises(ValueError, match="boom"):
        run_experiment(tiny_config(), tmp_path, extra_plugins={"boom": Exploding(at_step=2), "recorder": recorder})
    assert recorder.events[-2:] == [("on_exception", 2), ("on_run_end:failed", 2)]


class Logger:
    def __init__(self, key: str, declare: bool) -> None:
        self.key, self.declare = key, declare

    @hookimpl
    def declare_metrics(self) -> List[str]:
        return [self.key] if self.declare else []

    @hookimpl
    def on_eval_end(self, ctx: Any) -> None:
        ctx.log({self.key: 1.5})


def test_a_plugin_logs_its_declared_keys_to_every_sink(tmp_path, recorder):
    run_experiment(tiny_config(), tmp_path, extra_plugins={"mine": Logger("mine/value", True), "recorder": recorder})
    assert any(records == {"mine/value": 1.5} for _, records in recorder.records)


def test_undeclared_keys_are_refused(tmp_path):
    with pytest.raises(KeyError, match="mine/value"):
        run_experiment(tiny_config(), tmp_path, extra_plugins={"mine": Logger("mine/value", False)})


class Stopper:
    @hookimpl
    def on_step_end(self, ctx: Any) -> None:
        if ctx.step == 3:
            ctx.request_stop("enough")


def test_request_stop_ends_the_run_after_the_step_with_a_final_evaluation(tmp_path, recorder):
    result = run_experiment(tiny_config(training={"eval_every": 100}), tmp_path, extra_plugins={"stop": Stopper(), "r": recorder})
    assert (result.status, result.steps, result.stop_reason) == ("finished", 3, "enough")
    assert recorder.events[-2:] == [("on_eval_end", 3), ("on_run_end:finished", 3)]


def test_early_stop_needs_patience_evaluations_in_a_row():
    stopper = EarlyStopping(threshold=0.9, patience=2)
    assert [stopper.update(acc) is not None for acc in (0.95, 0.5, 0.91, 0.99)] == [False, False, False, True]
    assert EarlyStopping(threshold=None, patience=1).update(1.0) is None


def test_early_stop_ends_the_run(tmp_path, recorder):
    cfg = tiny_config(training={"epochs": 50, "eval_every": 2, "early_stop_acc": 1e-9, "early_stop_patience": 3})
    result = run_experiment(cfg, tmp_path, extra_plugins={"r": recorder})
    test_accs = [records["eval/test_acc"] for _, records in recorder.records if "eval/test_acc" in records]
    streak_end = next(i for i in range(2, len(test_accs)) if min(test_accs[i - 2 : i + 1]) >= 1e-9)
    assert result.stop_reason.startswith("early stop") and result.steps == 2 * streak_end
    assert len(test_accs) == streak_end + 1


def test_same_seed_same_run(tmp_path):
    first = run_experiment(tiny_config(seed=5), tmp_path)
    second = run_experiment(tiny_config(seed=5), tmp_path)
    other = run_experiment(tiny_config(seed=6), tmp_path)
    assert first.last_records == second.last_records
    assert first.last_records != other.last_records


class Interrupting:
    @hookimpl
    def on_step_end(self, ctx: Any) -> None:
        if ctx.step == 1:
            raise KeyboardInterrupt


def test_interrupt_gives_status_interrupted(tmp_path):
    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        run_experiment(tiny_config(), tmp_path, extra_plugins={"int": Interrupting(), "r": recorder})
    assert recorder.events[-1] == ("on_run_end:interrupted", 1)
