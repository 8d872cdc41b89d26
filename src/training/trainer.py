"""The training loop. It builds nothing and observes nothing: it steps and emits events."""
import math
from typing import Iterator, List, Optional

import pluggy
import torch

from configs.configurations import TrainingConfig
from src.telemetry.plugin_manager import call_isolated
from src.telemetry.run_context import RunContext
from src.training.early_stopping import EarlyStopping
from src.training.evaluation import evaluate_split
from src.training.interrupts import RunInterrupted

TRAINER_KEYS = ("train/loss", "eval/train_loss", "eval/train_acc", "eval/test_loss", "eval/test_acc")


class Trainer:
    """Runs `config.epochs` epochs of minibatch steps over `ctx.train`, evaluating at a cadence."""

    def __init__(self, ctx: RunContext, manager: pluggy.PluginManager, config: TrainingConfig, seed: int) -> None:
        self.ctx, self.manager, self.config = ctx, manager, config
        self.hook = manager.hook
        self.batch_size = min(config.batch_size or len(ctx.train.targets), len(ctx.train.targets))
        self.generator = torch.Generator().manual_seed(seed)
        self.early_stopping = EarlyStopping(config.early_stop_acc, config.early_stop_patience)
        self.last_eval_step = -1
        ctx.total_steps = config.epochs * math.ceil(len(ctx.train.targets) / self.batch_size)

    def fit(self) -> str:
        """Declare metrics, run, and return the status: finished, interrupted or failed."""
        ctx = self.ctx
        declared: List[str] = [key for keys in self.hook.declare_metrics(ctx=ctx) for key in keys]
        ctx.declare([*TRAINER_KEYS, *declared])
        status = "failed"
        try:
            self.hook.on_run_start(ctx=ctx)
            self._run_epochs()
            status = "finished"
        except (KeyboardInterrupt, RunInterrupted) as error:
            status = "interrupted"
            call_isolated(self.manager, "on_exception", ctx=ctx, error=error)
            raise
        except BaseException as error:
            call_isolated(self.manager, "on_exception", ctx=ctx, error=error)
            raise
        finally:
            failures = call_isolated(self.manager, "on_run_end", ctx=ctx, status=status)
            if failures and status == "finished":
                name, error = failures[0]
                raise RuntimeError(f"plugin {name!r} failed in on_run_end") from error
        return status

    def _run_epochs(self) -> None:
        ctx, config = self.ctx, self.config
        self._evaluate()
        after_backward = lambda: self.hook.on_after_backward(ctx=ctx)  # noqa: E731
        for indices in self._batches():
            self.hook.on_step_start(ctx=ctx)
            inputs, targets = ctx.train if indices is None else (ctx.train.inputs[indices], ctx.train.targets[indices])
            output = ctx.learner.learn(inputs, targets, after_backward=after_backward)
            ctx.step += 1
            if ctx.step % config.log_every == 0:
                ctx.log({"train/loss": output.loss.item()})
            self.hook.on_step_end(ctx=ctx, output=output)
            if ctx.step % config.eval_every == 0:
                self._evaluate()
            if ctx.stop_reason is not None:
                break
        if self.last_eval_step != ctx.step:
            self._evaluate()

    def _batches(self) -> Iterator[Optional[torch.Tensor]]:
        """Index tensors of every epoch's shuffled batches (sets `ctx.epoch`); None is the whole split."""
        n = len(self.ctx.train.targets)
        for epoch in range(self.config.epochs):
            self.ctx.epoch = epoch
            if self.batch_size >= n:
                yield None
            else:
                yield from torch.randperm(n, generator=self.generator).to(self.ctx.device).split(self.batch_size)

    def _evaluate(self) -> None:
        ctx, size = self.ctx, self.config.eval_batch_size
        self.last_eval_step = ctx.step
        train_loss, train_acc = evaluate_split(ctx.model, ctx.train, size)
        test_loss, test_acc = evaluate_split(ctx.model, ctx.test, size)
        metrics = {
            "eval/train_loss": train_loss,
            "eval/train_acc": train_acc,
            "eval/test_loss": test_loss,
            "eval/test_acc": test_acc,
        }
        ctx.log(metrics)
        self.hook.on_eval_end(ctx=ctx, metrics=metrics)
        reason = self.early_stopping.update(test_acc)
        if reason is not None:
            ctx.request_stop(reason)
