"""Loss and accuracy of the answer over a whole split, in chunks, without gradients."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from src.algos.learner import answer_logits
from src.telemetry.run_context import Split


@torch.no_grad()
def evaluate_split(model: nn.Module, split: Split, batch_size: int) -> Tuple[float, float]:
    """Mean cross-entropy and accuracy of the answer on every sample of `split`."""
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=split.targets.device)
    correct = torch.zeros((), device=split.targets.device, dtype=torch.long)
    for start in range(0, len(split.targets), batch_size):
        inputs, targets = split.inputs[start : start + batch_size], split.targets[start : start + batch_size]
        logits = answer_logits(model, inputs)
        total_loss += F.cross_entropy(logits, targets, reduction="sum")
        correct += (logits.argmax(dim=-1) == targets).sum()
    model.train(was_training)
    n = len(split.targets)
    return total_loss.item() / n, correct.item() / n
