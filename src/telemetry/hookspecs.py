"""Every event the trainer emits, in the order a run meets them.

A plugin implements any subset, with `@hookimpl`, taking only the arguments it needs (all
are passed by keyword). `ctx` is the run's `RunContext`: config, model, learner, data,
step, and `ctx.log(records)` to send metric records to every sink.

Order: plugins are called in the order of `telemetry.plugins`. Sinks (files, the console)
mark `on_run_start` with `tryfirst=True` and `on_run_end`/`on_exception` with `trylast=True`,
so they are open before any producer logs and close after the last record.
"""
from typing import Any, Iterable, Mapping

import pluggy

PROJECT_NAME = "ranktrace"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# -------------------------------------------------------------------------------------------
# initialization
# -------------------------------------------------------------------------------------------


@hookspec(historic=True)
def configure(config: Any) -> None:
    """Read and check this plugin's options, before data, model or files exist.

    :param config: the validated `ExperimentConfig`.
    Raise `ConfigError` for a bad option: the run stops before any work. Historic: a plugin
    registered later is called too.
    """


@hookspec
def declare_metrics(ctx: Any) -> Iterable[str]:
    """List every metric key this plugin may log, once the model exists and before step 0.

    :param ctx: the run context (the model is built; no step has run).
    Results of all plugins are joined. `ctx.log` refuses a key nobody declared, so a sink
    can lay out its storage up front. Raise `ConfigError` for options that do not fit the model.
    """


# -------------------------------------------------------------------------------------------
# run
# -------------------------------------------------------------------------------------------


@hookspec
def on_run_start(ctx: Any) -> None:
    """The run begins: declared keys are in `ctx.metric_keys`; open files, draw probe sets.

    :param ctx: the run context at step 0.
    """


@hookspec
def on_run_end(ctx: Any, status: str) -> None:
    """The run is over, however it ended; every plugin is called even if another one raised.

    :param ctx: the run context at the last step.
    :param status: `finished`, `interrupted` (SIGINT/SIGTERM) or `failed` (an exception).
    """


# -------------------------------------------------------------------------------------------
# optimizer steps
# -------------------------------------------------------------------------------------------


@hookspec
def on_step_start(ctx: Any) -> None:
    """An optimizer step is about to run; `ctx.step` steps are done. Attach per-step hooks here.

    :param ctx: the run context.
    """


@hookspec
def on_after_backward(ctx: Any) -> None:
    """Gradients of this step exist (`p.grad`); the optimizer has not stepped yet.

    :param ctx: the run context; `ctx.step` is still the count before this step.
    """


@hookspec
def on_step_end(ctx: Any, output: Any) -> None:
    """An optimizer step is done; `ctx.step` counts it. Remove per-step hooks here.

    :param ctx: the run context.
    :param output: the step's `StepOutput` (detached loss and answer logits).
    """


# -------------------------------------------------------------------------------------------
# evaluation
# -------------------------------------------------------------------------------------------


@hookspec
def on_eval_end(ctx: Any, metrics: Mapping[str, float]) -> None:
    """The full train and test splits were evaluated (every `training.eval_every` steps).

    :param ctx: the run context.
    :param metrics: `eval/train_loss`, `eval/train_acc`, `eval/test_loss`, `eval/test_acc`.
    """


# -------------------------------------------------------------------------------------------
# records
# -------------------------------------------------------------------------------------------


@hookspec
def on_records(ctx: Any, step: int, records: Mapping[str, float]) -> None:
    """Metric records were logged by the trainer or a plugin: every sink sees the same ones.

    :param ctx: the run context.
    :param step: the optimizer step the records describe.
    :param records: metric key (`train/loss`, `rank/<layer>/act/effective_rank`) → float.
    """


# -------------------------------------------------------------------------------------------
# failure
# -------------------------------------------------------------------------------------------


@hookspec
def on_exception(ctx: Any, error: BaseException) -> None:
    """The loop raised (or was interrupted); remove hooks, mark files. `on_run_end` follows.

    :param ctx: the run context at the failing step.
    :param error: the exception; every plugin is called even if another one raised.
    """
