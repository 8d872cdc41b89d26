"""Two small decoder-only transformers for the grokking task, returning logits [B, T, vocab].

`GrokkingTransformerManual` writes every projection as its own `nn.Linear`, so layers have
stable names (`layers.0.attn.W_q`, `layers.0.mlp.0`) for telemetry hooks; the attention
arithmetic itself is `F.scaled_dot_product_attention`. `GrokkingTransformerStandard` is
the same shape built from `nn.TransformerDecoderLayer`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from configs.configurations import GrokkingTransformerConfig


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention; position t attends to positions <= t only."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (W(x).view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        return self.W_o(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GrokkingTransformerConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config.d_model, config.n_heads, config.dropout)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(nn.Linear(config.d_model, config.d_mlp), nn.GELU(), nn.Linear(config.d_mlp, config.d_model))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_1(x)))
        return x + self.drop(self.mlp(self.ln_2(x)))


class _Embedding(nn.Module):
    """Token plus learned position embeddings."""

    def __init__(self, config: GrokkingTransformerConfig) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.max_seq_len, config.d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        return self.tok_emb(tokens) + self.pos_emb(positions)  # (B, T, C)


class GrokkingTransformerManual(nn.Module):
    """Decoder-only transformer with explicit, individually named projections."""

    def __init__(self, config: GrokkingTransformerConfig) -> None:
        super().__init__()
        self.embed = _Embedding(config)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.unembed = nn.Linear(config.d_model, config.vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.unembed(self.ln_f(x))  # (B, T, vocab)


class GrokkingTransformerStandard(nn.Module):
    """The same model from `nn.TransformerDecoderLayer(norm_first=True)`.

    A decoder layer also cross-attends to a `memory`. There is no encoder here, so the memory
    is the layer's own input with the same causal mask: cross-attention becomes a second causal
    self-attention, and position t still never sees a token after t.
    """

    def __init__(self, config: GrokkingTransformerConfig) -> None:
        super().__init__()
        self.embed = _Embedding(config)
        self.layers = nn.ModuleList(
            nn.TransformerDecoderLayer(
                config.d_model,
                config.n_heads,
                dim_feedforward=config.d_mlp,
                dropout=config.dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(config.n_layers)
        )
        self.ln_f = nn.LayerNorm(config.d_model)
        self.unembed = nn.Linear(config.d_model, config.vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        T = tokens.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=tokens.device, dtype=x.dtype)
        for layer in self.layers:
            x = layer(x, x, tgt_mask=mask, memory_mask=mask, tgt_is_causal=True, memory_is_causal=True)
        return self.unembed(self.ln_f(x))  # (B, T, vocab)
