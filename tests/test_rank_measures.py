import math

import pytest
import torch

from src.telemetry.rank_measures import (
    MEASURES,
    compute_all_rank_measures,
    compute_all_rank_measures_list,
    measures_from_singular_values,
    singular_values,
)


def svdvals_measures(matrix: torch.Tensor) -> dict:
    return measures_from_singular_values(torch.linalg.svdvals(matrix.to(torch.float64)))


@pytest.mark.parametrize("n", [1, 7, 64, 100])
def test_identity_has_full_rank(n):
    m = compute_all_rank_measures(torch.eye(n))
    assert m["effective_rank"] == pytest.approx(n)
    assert m["numerical_rank"] == n and m["stable_rank"] == pytest.approx(n)
    assert m["approximate_rank"] == math.ceil(0.99 * n - 1e-9)
    assert m["l1_distribution_rank"] == math.ceil(0.99 * n - 1e-9)


def test_rank_one_matrix():
    torch.manual_seed(0)
    m = compute_all_rank_measures(torch.outer(torch.randn(40), torch.randn(30)))
    assert m["numerical_rank"] == 1 and m["approximate_rank"] == 1
    assert m["stable_rank"] == pytest.approx(1.0, abs=1e-9)
    assert m["effective_rank"] == pytest.approx(1.0, abs=1e-9)


def test_known_diagonal_spectrum():
    s = torch.tensor([4.0, 2.0, 1.0, 1.0, 0.5, 0.0], dtype=torch.float64)
    m = compute_all_rank_measures(torch.diag(s))
    p = s[s > 0] / s.sum()
    assert m["effective_rank"] == pytest.approx(math.exp(-(p * p.log()).sum().item()), rel=1e-9)
    assert m["stable_rank"] == pytest.approx((16 + 4 + 1 + 1 + 0.25) / 16)
    assert m["numerical_rank"] == 5  # 0.5 >= 1e-2 * 4, 0 is not
    # cumulative s²: 16, 20, 21, 22, 22.25 of 22.25 → 99% first reached at k = 5
    assert m["approximate_rank"] == 5
    # cumulative s: 4, 6, 7, 8, 8.5 of 8.5 → 99% = 8.415 first reached at k = 5
    assert m["l1_distribution_rank"] == 5
    looser = compute_all_rank_measures(torch.diag(s), approximate_threshold=0.9, numerical_eps=0.3)
    assert looser["approximate_rank"] == 3 and looser["numerical_rank"] == 2  # 21 >= 20.03; 4, 2 >= 1.2


def test_zero_matrix_has_every_rank_zero():
    assert compute_all_rank_measures(torch.zeros(5, 3)) == dict.fromkeys(MEASURES, 0.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_or_inf_gives_nan_and_one_warning_naming_the_layer(bad):
    good = torch.randn(6, 4)
    broken = torch.randn(6, 4)
    broken[2, 1] = bad
    with pytest.warns(UserWarning, match="layers.0.mlp.0") as caught:
        results = compute_all_rank_measures_list([good, broken], ["layers.0.attn.W_q", "layers.0.mlp.0"])
    assert len(caught) == 1
    assert all(math.isnan(v) for v in results[1].values())
    assert all(math.isfinite(v) for v in results[0].values())


def _low_rank(n: int, d: int, r: int) -> torch.Tensor:
    return torch.randn(n, r, dtype=torch.float64) @ torch.randn(r, d, dtype=torch.float64)


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.randn(300, 40),  # tall
        lambda: torch.randn(40, 300),  # wide
        lambda: torch.randn(64, 64),  # square
        lambda: _low_rank(200, 80, 5),  # rank-deficient, tall
        lambda: _low_rank(50, 300, 12),  # rank-deficient, wide
        lambda: torch.randn(128, 64) * torch.logspace(0, -6, 64),  # ill-conditioned
    ],
)
def test_gram_path_agrees_with_float64_svdvals(make):
    torch.manual_seed(1)
    matrix = make()
    reference_s = torch.linalg.svdvals(matrix.to(torch.float64))
    assert torch.allclose(singular_values(matrix), reference_s, rtol=0, atol=1e-4 * reference_s[0].item())
    reference, got = svdvals_measures(matrix), compute_all_rank_measures(matrix)
    for key in ("approximate_rank", "l1_distribution_rank", "numerical_rank"):
        assert got[key] == reference[key], key
    for key in ("effective_rank", "stable_rank"):
        assert got[key] == pytest.approx(reference[key], rel=1e-4), key


def test_low_rank_product_is_counted_right():
    torch.manual_seed(2)
    assert compute_all_rank_measures(_low_rank(200, 80, 5))["numerical_rank"] == 5


def test_list_matches_single_calls_across_shapes():
    torch.manual_seed(3)
    matrices = [torch.randn(30, 10), torch.randn(10, 30), torch.randn(50, 10), torch.randn(20, 20)]
    assert compute_all_rank_measures_list(matrices) == [compute_all_rank_measures(m) for m in matrices]
