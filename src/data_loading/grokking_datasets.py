"""Modular arithmetic a ∘ b mod p, the grokking task of Power et al. (2022)."""
from typing import Callable, Dict, Tuple

import torch
from torch.utils.data import Dataset

OPERATIONS: Dict[str, Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]] = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
    "mul": lambda a, b, p: (a * b) % p,
}


class ModularArithmeticDataset(Dataset):
    """One split of all p×p questions `[a, op, b, =]` with answer `a ∘ b mod p`.

    Tokens 0..p-1 are the numbers, p is the operator and p+1 is `=`. All pairs are shuffled
    with `seed`; the train split keeps the first `train_fraction` of them and the test split
    the rest, so two splits built with the same seed are disjoint and together complete.
    `inputs` ([n, 4] long) and `targets` ([n] long) expose the whole split at once.
    """

    def __init__(
        self,
        train: bool,
        seed: int = 42,
        p: int = 113,
        train_fraction: float = 0.5,
        operation: str = "add",
    ) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"operation={operation!r} is not known: one of {sorted(OPERATIONS)}")
        a, b = torch.cartesian_prod(torch.arange(p), torch.arange(p)).unbind(1)
        order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
        n_train = int(round(train_fraction * p * p))
        keep = order[:n_train] if train else order[n_train:]
        a, b = a[keep], b[keep]
        self.p = p
        self.inputs = torch.stack([a, torch.full_like(a, p), b, torch.full_like(a, p + 1)], dim=1)
        self.targets = OPERATIONS[operation](a, b, p)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.inputs[index], self.targets[index]
