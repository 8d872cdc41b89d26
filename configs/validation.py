"""Value checks that types alone cannot express; each names the key, the value and the rule."""
from configs.configurations import ExperimentConfig, GrokkingTransformerConfig, NetConfig
from configs.errors import ConfigError


def _require(ok: bool, key: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def validate_config(cfg: ExperimentConfig) -> None:
    """Raise `ConfigError` for the first value outside its allowed range."""
    data, net, training = cfg.data, cfg.net, cfg.training
    _require(data.p >= 2, "data.p", data.p, "an integer >= 2")
    _require(0.0 < data.train_fraction < 1.0, "data.train_fraction", data.train_fraction, "a number in (0, 1)")
    _require(
        net.vocab_size >= data.p + 2,
        "net.vocab_size",
        net.vocab_size,
        f"at least data.p + 2 = {data.p + 2} (the numbers 0..p-1, '+' and '=')",
    )
    if isinstance(net, GrokkingTransformerConfig):
        _require(net.n_layers >= 1, "net.n_layers", net.n_layers, "an integer >= 1")
        _require(net.n_heads >= 1, "net.n_heads", net.n_heads, "an integer >= 1")
        _require(
            net.d_model % net.n_heads == 0,
            "net.d_model",
            net.d_model,
            f"a multiple of net.n_heads={net.n_heads}",
        )
        _require(net.max_seq_len >= 4, "net.max_seq_len", net.max_seq_len, "at least 4 (a ∘ b =)")
        _require(0.0 <= net.dropout < 1.0, "net.dropout", net.dropout, "a number in [0, 1)")
    if isinstance(net, NetConfig):
        _require(net.seq_len == 4, "net.seq_len", net.seq_len, "4 (the question a ∘ b =)")
        _require(net.num_hidden_layers >= 1, "net.num_hidden_layers", net.num_hidden_layers, "an integer >= 1")
    _require(cfg.learner.step_size >= 0, "learner.step_size", cfg.learner.step_size, "a number >= 0")
    _require(cfg.learner.weight_decay >= 0, "learner.weight_decay", cfg.learner.weight_decay, "a number >= 0")
    _require(training.epochs >= 1, "training.epochs", training.epochs, "an integer >= 1")
    _require(
        training.batch_size is None or training.batch_size >= 1,
        "training.batch_size",
        training.batch_size,
        "an integer >= 1, or null for full batch",
    )
    _require(training.eval_every >= 1, "training.eval_every", training.eval_every, "an integer >= 1")
    _require(training.log_every >= 1, "training.log_every", training.log_every, "an integer >= 1")
    _require(training.eval_batch_size >= 1, "training.eval_batch_size", training.eval_batch_size, "an integer >= 1")
    _require(
        training.early_stop_acc is None or 0.0 < training.early_stop_acc <= 1.0,
        "training.early_stop_acc",
        training.early_stop_acc,
        "a number in (0, 1], or null for no early stop",
    )
    _require(
        training.early_stop_patience >= 1, "training.early_stop_patience", training.early_stop_patience, "an integer >= 1"
    )
    _require(
        cfg.device == "auto" or cfg.device.split(":")[0] in ("cpu", "cuda", "mps"),
        "device",
        cfg.device,
        "auto, cpu, cuda, cuda:N or mps",
    )
    _require(
        len(set(cfg.telemetry.plugins)) == len(cfg.telemetry.plugins),
        "telemetry.plugins",
        cfg.telemetry.plugins,
        "each plugin named once",
    )
