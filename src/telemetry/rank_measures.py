"""Rank measures of matrices, from one eigendecomposition of a float64 Gram matrix each.

For A (n × d) with singular values s (descending) and p = s / Σs:
- effective rank       exp(−Σ p log p)                    (Roy & Vetterli 2007)
- approximate rank     smallest k with Σ_{i≤k} s_i² ≥ 0.99 Σ s_i²   (Yang et al. 2020)
- l1 distribution rank smallest k with Σ_{i≤k} s_i ≥ 0.99 Σ s_i
- numerical rank       #{i : s_i ≥ 1e-2 · s_1}
- stable rank          Σ s_i² / s_1²

s comes from the eigenvalues of the smaller of AᵀA and AAᵀ, in float64: eigenvalue errors
are ~1e-16·s_1², so even the zero singular values of a rank-deficient matrix come out below
~1e-8·s_1. A float32 Gram leaves a floor near 3e-4·s_1 under them, which inflates effective
rank, so float32 is not offered. Values below sqrt(m·eps)·s_1, the Gram's own noise level
for an m × m Gram, are set to zero, so an exactly low-rank matrix has exactly its rank.
Grams of equal size are decomposed in one batched call.
"""
import math
import warnings
from typing import Dict, List, Optional, Sequence

import torch

MEASURES = ("effective_rank", "approximate_rank", "l1_distribution_rank", "numerical_rank", "stable_rank")


def singular_values(matrix: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D matrix, descending, in float64 (via its smaller Gram matrix)."""
    return _singular_values_batched([_gram(matrix)])[0]


def _gram(matrix: torch.Tensor) -> torch.Tensor:
    a = matrix.detach().to(torch.float64)
    return a.T @ a if a.shape[1] <= a.shape[0] else a @ a.T


def _singular_values_batched(grams: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    eigenvalues = torch.linalg.eigvalsh(torch.stack(list(grams)))  # ascending, (k, m)
    s = eigenvalues.clamp_min(0).sqrt().flip(-1)
    m = s.shape[-1]
    noise = s[:, :1] * math.sqrt(m * torch.finfo(torch.float64).eps)
    return list(torch.where(s < noise, torch.zeros_like(s), s).unbind(0))


def measures_from_singular_values(
    s: torch.Tensor, approximate_threshold: float = 0.99, l1_threshold: float = 0.99, numerical_eps: float = 1e-2
) -> Dict[str, float]:
    """Every measure from descending singular values `s`; all zeros when s is all zero."""
    s = s.to(torch.float64)
    if s.numel() == 0 or s[0] <= 0:
        return dict.fromkeys(MEASURES, 0.0)
    squares = s.square()
    p = s / s.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()

    def smallest_k(values: torch.Tensor, fraction: float) -> float:
        cumulative = values.cumsum(0)
        return float(torch.searchsorted(cumulative, fraction * cumulative[-1]).clamp_max(len(values) - 1) + 1)

    return {
        "effective_rank": math.exp(entropy.item()),
        "approximate_rank": smallest_k(squares, approximate_threshold),
        "l1_distribution_rank": smallest_k(s, l1_threshold),
        "numerical_rank": float((s >= numerical_eps * s[0]).sum()),
        "stable_rank": (squares.sum() / squares[0]).item(),
    }


def compute_all_rank_measures_list(
    matrices: Sequence[torch.Tensor],
    names: Optional[Sequence[str]] = None,
    approximate_threshold: float = 0.99,
    l1_threshold: float = 0.99,
    numerical_eps: float = 1e-2,
) -> List[Dict[str, float]]:
    """Every rank measure of every matrix; a matrix with NaN or Inf gets NaNs and one warning."""
    names = list(names) if names is not None else [f"matrix {i}" for i in range(len(matrices))]
    results: List[Dict[str, float]] = [dict.fromkeys(MEASURES, math.nan) for _ in matrices]
    grams_by_size: Dict[int, List[int]] = {}
    grams: Dict[int, torch.Tensor] = {}
    for index, matrix in enumerate(matrices):
        if not torch.isfinite(matrix).all():
            warnings.warn(f"rank measures of {names[index]}: the matrix holds NaN or Inf; measures are NaN", stacklevel=2)
            continue
        grams[index] = _gram(matrix)
        grams_by_size.setdefault(grams[index].shape[0], []).append(index)
    for indices in grams_by_size.values():
        for index, s in zip(indices, _singular_values_batched([grams[i] for i in indices])):
            results[index] = measures_from_singular_values(s, approximate_threshold, l1_threshold, numerical_eps)
    return results


def compute_all_rank_measures(
    matrix: torch.Tensor,
    name: str = "matrix",
    approximate_threshold: float = 0.99,
    l1_threshold: float = 0.99,
    numerical_eps: float = 1e-2,
) -> Dict[str, float]:
    """Every rank measure of one matrix (see the module docstring for definitions)."""
    return compute_all_rank_measures_list([matrix], [name], approximate_threshold, l1_threshold, numerical_eps)[0]
