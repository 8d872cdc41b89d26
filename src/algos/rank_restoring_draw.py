"""Draw new incoming rows Σ-orthogonal to the kept ones (RR-CBP), in whitened coordinates.

With Σ = Q diag(λ) Qᵀ, a row w has whitened form z = Σ^{1/2} w, so ‖w‖²_Σ = wᵀΣw = ‖z‖² and
wᵀΣv = zᵀ(Σ^{1/2}v). For the kept rows V (columns), A = Σ^{1/2} V and M = A Aᵀ (d × d). The
projector V (VᵀΣV + γI)⁻¹ VᵀΣ becomes, for z, A (AᵀA + γI)⁻¹ Aᵀ = U diag(m/(m+γ)) Uᵀ
with M = U diag(m) Uᵀ, so its complement keeps U diag(γ/(m+γ)) Uᵀ of a draw.

- Complement not empty (the kept rows do not span the input space): a random draw is
  projected onto it; a draw that keeps less than `collapse_tol` of its norm is redrawn, up to
  `max_trials` times, then replaced by the least-covered direction (a *fallback*).
- Saturated (the kept rows span every direction, e.g. 512 units on 128 inputs): there is no
  Σ-orthogonal direction; the new row is the least-covered one, the eigenvector of the
  smallest eigenvalue of M, mapped back by Σ^{-1/2} (counted as *saturated*).
Each new row joins the kept rows before the next is drawn (Gram-Schmidt in Σ within a step),
and is scaled to its allotted Σ-energy.
"""
from dataclasses import dataclass, field
from typing import List, Sequence

import torch


@dataclass
class Whitening:
    """Σ^{1/2} and Σ^{-1/2} of a (ridged) covariance, and its spectrum."""

    sqrt: torch.Tensor
    inv_sqrt: torch.Tensor
    eigenvalues: torch.Tensor  # ascending

    @classmethod
    def of(cls, sigma: torch.Tensor, ridge: float = 1e-6) -> "Whitening":
        d = sigma.shape[0]
        sigma = sigma.to(torch.float64)
        sigma = (sigma + sigma.T) / 2 + ridge * (sigma.trace() / d).clamp_min(1e-12) * torch.eye(d, dtype=sigma.dtype, device=sigma.device)
        eigenvalues, vectors = torch.linalg.eigh(sigma)
        eigenvalues = eigenvalues.clamp_min(1e-12 * eigenvalues[-1].clamp_min(1e-300))
        sqrt = (vectors * eigenvalues.sqrt()) @ vectors.T
        inv_sqrt = (vectors / eigenvalues.sqrt()) @ vectors.T
        return cls(sqrt=sqrt, inv_sqrt=inv_sqrt, eigenvalues=eigenvalues)


@dataclass
class DrawResult:
    """The new rows and how each was obtained."""

    rows: torch.Tensor  # (n, d), float64
    saturated: int = 0
    fallbacks: int = 0
    residuals: List[float] = field(default_factory=list)  # orthogonality residual per projected row


def whitened_gram_lambda_min(rows: torch.Tensor, whitening: Whitening) -> float:
    """λ_min of the whitened Gram of `rows` (k, d): from the smaller of W Σ Wᵀ (k × k) and
    Σ^{1/2} WᵀW Σ^{1/2} (d × d), which share their non-zero spectrum."""
    a = rows.to(torch.float64) @ whitening.sqrt  # (k, d): whitened rows
    gram = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    return torch.linalg.eigvalsh(gram)[0].clamp_min(0).item()


def orthogonality_residual(kept: torch.Tensor, row: torch.Tensor, whitening: Whitening) -> float:
    """‖VᵀΣw‖ / (‖V‖_Σ · ‖w‖_Σ): 0 when w is Σ-orthogonal to every kept row (V's columns)."""
    a = kept.to(torch.float64) @ whitening.sqrt  # (k, d)
    z = whitening.sqrt @ row.to(torch.float64)
    return ((a @ z).norm() / (torch.linalg.matrix_norm(a, ord=2) * z.norm()).clamp_min(1e-300)).item()


def draw_sigma_orthogonal_rows(
    kept: torch.Tensor,
    whitening: Whitening,
    energies: Sequence[float],
    projector_reg: float = 1e-6,
    max_trials: int = 4,
    collapse_tol: float = 1e-3,
    generator: torch.Generator = None,
) -> DrawResult:
    """One new row per entry of `energies` (its Σ-energy wᵀΣw), Σ-orthogonal to `kept` (k, d)
    and to each other where the complement allows, else the least-covered direction."""
    d = whitening.sqrt.shape[0]
    a = kept.to(torch.float64) @ whitening.sqrt  # (k, d), whitened kept rows
    m_matrix = a.T @ a  # M = Σ^{1/2} V Vᵀ Σ^{1/2}
    result = DrawResult(rows=torch.empty(0, d, dtype=torch.float64, device=kept.device))
    new_z: List[torch.Tensor] = []
    for energy in energies:
        m, u = torch.linalg.eigh(m_matrix)  # ascending
        scale = m[-1].clamp_min(1e-300)
        gamma = projector_reg * scale
        spans_everything = bool((m > 1e-9 * scale).all())
        z = None
        if not spans_everything:
            keep = gamma / (m + gamma)
            for _ in range(max_trials):
                r = torch.randn(d, dtype=torch.float64, generator=generator).to(kept.device)
                candidate = u @ (keep * (u.T @ r))
                if candidate.norm() >= collapse_tol * r.norm():
                    z = candidate
                    break
        if z is None:
            z = u[:, 0].clone()
            result.saturated += spans_everything
            result.fallbacks += not spans_everything
        if not spans_everything:
            residual = ((a @ z).norm() / (m[-1].clamp_min(1e-300).sqrt() * z.norm())).item() if len(a) else 0.0
            result.residuals.append(residual)
        z = z / z.norm() * float(energy) ** 0.5
        new_z.append(z)
        a = torch.cat([a, z[None]])
        m_matrix = m_matrix + torch.outer(z, z)
    if new_z:
        result.rows = torch.stack(new_z) @ whitening.inv_sqrt  # w = Σ^{-1/2} z (Σ^{-1/2} is symmetric)
    return result
