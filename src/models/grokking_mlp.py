"""An MLP baseline on the embedded question, for `NetConfig`: logits [B, 1, vocab]."""
import torch
import torch.nn as nn

from configs.configurations import NetConfig

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class GrokkingMLP(nn.Module):
    """Embed each token, concatenate, then hidden layers `mlp.0, mlp.2, ...` and a readout.

    It answers at one position, so its logits are [B, 1, vocab] like the transformers' last.
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.d_embed)
        layers, width = [], config.seq_len * config.d_embed
        for _ in range(config.num_hidden_layers):
            layers += [nn.Linear(width, config.hidden_size), ACTIVATIONS[config.act_type]()]
            width = config.hidden_size
        self.mlp = nn.Sequential(*layers)
        self.unembed = nn.Linear(width, config.vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens).flatten(1)  # (B, T*C)
        return self.unembed(self.mlp(x)).unsqueeze(1)  # (B, 1, vocab)
