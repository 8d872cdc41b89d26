"""Every config dataclass of a ranktrace experiment, and their Hydra registration.

The dataclass defaults are the classic grokking setup (Power et al. 2022; Nanda et al. 2023):
p = 113, half the pairs for training, a 1-2 layer transformer with d_model 128,
AdamW lr 1e-3, weight decay 1.0, betas (0.9, 0.98).
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union


def _target(cls_name: str) -> str:
    return f"{__name__}.{cls_name}"


@dataclass
class DataConfig:
    """The modular arithmetic task: all pairs (a, b) of 0..p-1, labelled a ∘ b mod p."""

    dataset: str = "modular_arithmetic"
    p: int = 113
    operation: str = "add"
    train_fraction: float = 0.5
    seed: int = 42  # the split's seed; the run's `seed` drives init and batch order


@dataclass
class NetConfig:
    """A plain MLP on the embedded question tokens: the non-transformer baseline."""

    _target_: str = _target("NetConfig")
    type: str = "MLP"
    vocab_size: int = 115
    seq_len: int = 4
    d_embed: int = 128
    hidden_size: int = 512
    num_hidden_layers: int = 1
    act_type: str = "relu"


@dataclass
class GrokkingTransformerConfig:
    """A small decoder-only transformer; `type` picks the implementation."""

    _target_: str = _target("GrokkingTransformerConfig")
    type: str = "GrokkingTransformer_pytorch_manual_implementation"
    vocab_size: int = 115
    max_seq_len: int = 10
    n_layers: int = 2
    n_heads: int = 4
    d_model: int = 128
    d_mlp: int = 512
    dropout: float = 0.0


@dataclass
class BackpropConfig:
    """Plain gradient descent with one of torch's optimizers."""

    _target_: str = _target("BackpropConfig")
    type: str = "backprop"
    opt: str = "adamw"
    step_size: float = 1e-3
    weight_decay: float = 1.0
    betas: Tuple[float, float] = (0.9, 0.98)
    momentum: float = 0.0  # SGD only


@dataclass
class ContinuousBackpropConfig(BackpropConfig):
    """Continual backprop (Dohare et al. 2024) on the MLP hidden units of every block."""

    _target_: str = _target("ContinuousBackpropConfig")
    type: str = "cbp"
    neurons_replacement_rate: float = 1e-4  # ρ: fraction of mature units replaced per step
    decay_rate_utility_track: float = 0.99  # η: EMA decay of utility and mean activation
    maturity_threshold: int = 100  # a unit older than this many steps may be replaced
    util_type: str = "contribution"  # |h_i| · Σ_j |W_out[j, i]|
    accumulate: bool = True  # carry the fractional count over; False: replace one with that probability


@dataclass
class RRContinuousBackpropConfig(ContinuousBackpropConfig):
    """Rank-restoring CBP: new incoming rows Σ-orthogonal to the kept ones, at a set Σ-energy."""

    _target_: str = _target("RRContinuousBackpropConfig")
    type: str = "rr_cbp"
    rrcbp_enabled: bool = True  # False: plain CBP's Kaiming-uniform draw
    sigma_mode: str = "full"  # full | diagonal: how Σ (the MLP input covariance) is kept
    sigma_ema_beta: float = 0.99  # EMA decay of Σ
    sigma_floor: float = 1e-9  # Σ's eigenvalues below this × λ_max count as no variance: left out of whitening
    projector_reg: float = 1e-6  # γ in V (VᵀΣV + γI)⁻¹ VᵀΣ, relative to tr(Σ)/d
    max_proj_trials: int = 4  # random draws before falling back to the least-covered direction
    collapse_tol: float = 1e-3  # a projected draw keeping less than this of its Σ-norm collapsed
    energy_floor_tau: float = 0.1  # τ: Σ-energy floor τ·λ_min(Σ) when the layer is over budget
    lambda_star: Optional[float] = None  # if set, the floor is this instead of τ·λ_min(Σ)
    chi0_override: Optional[float] = None  # χ0 of the activation; default E[φ(z)²], z ~ N(0, 1)
    center_bias: bool = True  # the new bias centres the unit's pre-activation on the batch
    micro_seed_eps: float = 0.0  # > 0: outgoing weights start at ε·N(0, 1/d) instead of 0


@dataclass
class TrainingConfig:
    """The loop: how long, how batched, how often evaluated, when stopped early."""

    epochs: int = 10000
    batch_size: Optional[int] = 512  # null: full batch
    eval_every: int = 100  # optimizer steps between evaluations on the full splits
    log_every: int = 1  # optimizer steps between `train/loss` records
    eval_batch_size: int = 16384
    early_stop_acc: Optional[float] = None  # stop once eval/test_acc >= this ...
    early_stop_patience: int = 1  # ... for this many evaluations in a row


@dataclass
class ConsoleConfig:
    """The progress bar."""

    refresh_seconds: float = 0.5


@dataclass
class RankConfig:
    """The `rank` plugin: rank measures of activations, weights and gradients of Linear layers."""

    every: int = 100  # optimizer steps between measurements (step 0 included)
    layers: List[str] = field(default_factory=lambda: ["layers.*"])  # globs over named_modules()
    probe_size: int = 512  # train samples in the fixed probe set
    fold: str = "flatten"  # tokens into rows: flatten [B, T*C] | last [B, C] | tokens [B*T, C]
    kinds: List[str] = field(default_factory=lambda: ["act", "weight", "grad"])
    approximate_threshold: float = 0.99
    l1_threshold: float = 0.99
    numerical_eps: float = 1e-2


@dataclass
class HDF5Config:
    """The `hdf5` sink: one SWMR-readable HDF5 file per run (schema: docs/hdf5_schema.md)."""

    path: str = "run.h5"  # relative paths are inside the run directory
    flush_every_steps: Optional[int] = None  # null: flush at every evaluation


@dataclass
class RRCBPTelemetryConfig:
    """The `rrcbp` plugin: replacement diagnostics every event, Σ's spectrum at a cadence."""

    sigma_every: int = 100  # optimizer steps between Σ spectrum records


@dataclass
class TelemetryConfig:
    """Which plugins observe the run, and their options."""

    plugins: List[str] = field(default_factory=lambda: ["console", "rank", "hdf5"])
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    rank: RankConfig = field(default_factory=RankConfig)
    hdf5: HDF5Config = field(default_factory=HDF5Config)
    rrcbp: RRCBPTelemetryConfig = field(default_factory=RRCBPTelemetryConfig)
    options: Dict[str, Any] = field(default_factory=dict)  # third-party plugins: options.<name>


@dataclass
class ExperimentConfig:
    """One run. `net` and `learner` are unions: the node's `_target_` names the member."""

    seed: int = 0
    device: str = "auto"  # auto: cuda when present, else cpu
    data: DataConfig = field(default_factory=DataConfig)
    net: Union[NetConfig, GrokkingTransformerConfig] = field(default_factory=GrokkingTransformerConfig)
    learner: Union[BackpropConfig, ContinuousBackpropConfig, RRContinuousBackpropConfig] = field(
        default_factory=BackpropConfig
    )
    training: TrainingConfig = field(default_factory=TrainingConfig)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
