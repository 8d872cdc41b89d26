"""An exponential moving average of the covariance Σ of a layer's input, full or diagonal."""
import torch


class InputCovariance:
    """Σ = EMA[x xᵀ] − μ μᵀ over rows x, bias-corrected by the number of updates."""

    def __init__(self, dim: int, beta: float, mode: str = "full", device: torch.device = torch.device("cpu")) -> None:
        if mode not in ("full", "diagonal"):
            raise ValueError(f"sigma_mode={mode!r}: one of ['full', 'diagonal']")
        self.beta, self.mode, self.updates = beta, mode, 0
        self.mean = torch.zeros(dim, dtype=torch.float64, device=device)
        shape = (dim, dim) if mode == "full" else (dim,)
        self.second_moment = torch.zeros(shape, dtype=torch.float64, device=device)

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold in a batch of rows x (n, dim)."""
        x = x.detach().to(torch.float64)
        moment = x.T @ x / len(x) if self.mode == "full" else x.square().mean(0)
        self.mean.mul_(self.beta).add_(x.mean(0), alpha=1 - self.beta)
        self.second_moment.mul_(self.beta).add_(moment, alpha=1 - self.beta)
        self.updates += 1

    def matrix(self) -> torch.Tensor:
        """The current Σ as a (dim, dim) float64 matrix (diagonal mode: a diagonal matrix)."""
        correction = 1 - self.beta**self.updates if self.updates else 1.0
        mean = self.mean / correction
        if self.mode == "full":
            return self.second_moment / correction - torch.outer(mean, mean)
        return torch.diag((self.second_moment / correction - mean.square()).clamp_min(0))
