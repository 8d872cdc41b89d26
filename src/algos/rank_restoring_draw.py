"""Draw new incoming rows Σ-orthogonal to the kept ones (RR-CBP), in whitened coordinates.

Whitening lives on the range of Σ: with Σ = Q diag(λ) Qᵀ restricted to the eigenvalues above
floor · λ_max, a row w has whitened form z = diag(√λ) Qᵀ w, so the true Σ-energy is
wᵀΣw = ‖z‖², and w = Q diag(1/√λ) z never points where the input does not vary (a ridge
would instead make those directions look least covered and pour the energy into them).
For the kept rows V, A holds their whitened forms and M = AᵀA = Σ^{1/2} V Vᵀ Σ^{1/2} on that
range. The projector V (VᵀΣV + γI)⁻¹ VᵀΣ becomes, for z, U diag(m/(m+γ)) Uᵀ with
M = U diag(m) Uᵀ, so its complement keeps U diag(γ/(m+γ)) Uᵀ of a draw.

- Complement not empty (the kept rows do not span the range): a random draw is projected
  onto it; a draw that keeps less than `collapse_tol` of its norm is redrawn, up to
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
    """Maps between rows w (d) and whitened coordinates z (r) on the range of Σ."""

    to_white: torch.Tensor  # (r, d): z = to_white @ w
    from_white: torch.Tensor  # (d, r): w = from_white @ z
    eigenvalues: torch.Tensor  # (r,) ascending: Σ's spectrum on its range

    @classmethod
    def of(cls, sigma: torch.Tensor, floor: float = 1e-9) -> "Whitening":
        """Whitening of Σ on the eigenvalues above `floor` × the largest one."""
        sigma = sigma.to(torch.float64)
        eigenvalues, vectors = torch.linalg.eigh((sigma + sigma.T) / 2)
        if eigenvalues[-1] <= 0:
            raise ValueError("Σ is zero: the layer's input has not varied yet")
        keep = eigenvalues > floor * eigenvalues[-1]
        eigenvalues, vectors = eigenvalues[keep], vectors[:, keep]
        root = eigenvalues.sqrt()
        return cls(to_white=(vectors * root).T, from_white=vectors / root, eigenvalues=eigenvalues)

    def whiten(self, rows: torch.Tensor) -> torch.Tensor:
        """Whitened forms (k, r) of rows (k, d)."""
        return rows.to(torch.float64) @ self.to_white.T


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
    a = whitening.whiten(rows)  # (k, r)
    gram = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    return torch.linalg.eigvalsh(gram)[0].clamp_min(0).item()


def orthogonality_residual(kept: torch.Tensor, row: torch.Tensor, whitening: Whitening) -> float:
    """‖VᵀΣw‖ / (‖V‖_Σ · ‖w‖_Σ): 0 when w is Σ-orthogonal to every kept row (V's columns);
    ‖V‖_Σ is the spectral norm of Σ^{1/2}V, which makes the ratio scale-free."""
    a = whitening.whiten(kept)  # (k, r)
    z = whitening.whiten(row[None])[0]
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
    d, r = whitening.from_white.shape
    a = whitening.whiten(kept)  # (k, r)
    m_matrix = a.T @ a  # M = Σ^{1/2} V Vᵀ Σ^{1/2} on Σ's range
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
                draw = torch.randn(r, dtype=torch.float64, generator=generator).to(kept.device)
                candidate = u @ (keep * (u.T @ draw))
                if candidate.norm() >= collapse_tol * draw.norm():
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
        result.rows = torch.stack(new_z) @ whitening.from_white.T  # w = Σ^{-1/2} z
    return result
