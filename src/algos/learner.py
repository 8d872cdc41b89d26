"""What every learner offers the trainer and plugins."""
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class StepOutput:
    """The result of one optimizer step, detached from the graph."""

    loss: torch.Tensor  # scalar: mean cross-entropy on the answer position
    logits: torch.Tensor  # (B, vocab): logits at the answer position


def answer_logits(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Logits at the last position, where the model answers `a ∘ b =`: (B, vocab)."""
    return model(inputs)[:, -1]


def answer_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the answer."""
    return F.cross_entropy(logits, targets)


class Learner:
    """Base learner: plain backprop. Subclasses change what happens after the optimizer step."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer

    def learn(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        after_backward: Optional[Callable[[], None]] = None,
    ) -> StepOutput:
        """One step: forward, backward, `after_backward()` while gradients exist, optimizer step."""
        self.model.train()
        logits = answer_logits(self.model, inputs)
        loss = answer_loss(logits, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if after_backward is not None:
            after_backward()
        self.optimizer.step()
        self.after_optimizer_step()
        return StepOutput(loss=loss.detach(), logits=logits.detach())

    def after_optimizer_step(self) -> None:
        """Where continual-learning learners intervene; plain backprop does nothing."""
