"""Stop once test accuracy has held at or above a threshold for `patience` evaluations."""
from typing import Optional


class EarlyStopping:
    """Counts consecutive evaluations at or above `threshold`; off when threshold is None."""

    def __init__(self, threshold: Optional[float], patience: int) -> None:
        self.threshold, self.patience, self.streak = threshold, patience, 0

    def update(self, test_acc: float) -> Optional[str]:
        """Feed one evaluation; return the reason to stop, or None to go on."""
        if self.threshold is None:
            return None
        self.streak = self.streak + 1 if test_acc >= self.threshold else 0
        if self.streak >= self.patience:
            return f"early stop: eval/test_acc >= {self.threshold} for {self.streak} evaluation(s)"
        return None
