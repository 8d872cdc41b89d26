"""The networks: every weight a named `nn.Linear` so hooks can find it."""
