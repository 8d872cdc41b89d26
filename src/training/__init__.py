"""The training loop and what wires a run together."""
