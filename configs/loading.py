"""Turn a composed Hydra config into a validated `ExperimentConfig`.

OmegaConf cannot type a field as a union of dataclasses, so union fields are typed `Any`
in the schema Hydra sees; here each union node is checked against the member its `_target_`
names, which rejects wrong types and unknown keys before anything is built.
"""
import dataclasses
from typing import Any, Dict, Tuple, Union, get_args, get_origin, get_type_hints

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from configs.configurations import ExperimentConfig
from configs.errors import ConfigError
from configs.validation import validate_config


def union_members(annotation: Any) -> Tuple[type, ...]:
    """The dataclasses a field may hold: the union's members, or the one class."""
    if get_origin(annotation) is Union:
        return get_args(annotation)
    return (annotation,)


def _union_fields() -> Dict[str, Tuple[type, ...]]:
    hints = get_type_hints(ExperimentConfig)
    return {name: union_members(hint) for name, hint in hints.items() if get_origin(hint) is Union}


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _member_for(key: str, node: Any, members: Tuple[type, ...], default: type) -> type:
    by_path = {_class_path(m): m for m in members}
    target = node.get("_target_", _class_path(default)) if isinstance(node, dict) else None
    if target not in by_path:
        raise ConfigError(f"{key}._target_", target, f"one of {sorted(by_path)}")
    return by_path[target]


def _copy_field(f: dataclasses.Field) -> Tuple[str, Any, dataclasses.Field]:
    return f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory)


def omegaconf_schema() -> type:
    """`ExperimentConfig` with union fields as open `Any` nodes: the schema registered with Hydra.

    A union node may then take any member's keys (a config group such as `learner=...` swaps
    it whole); `load_experiment_config` checks it against the member its `_target_` names.
    """
    return dataclasses.make_dataclass(
        "ExperimentSchema",
        [
            (f.name, Any, dataclasses.field(default_factory=dict))
            if f.name in _union_fields()
            else _copy_field(f)
            for f in dataclasses.fields(ExperimentConfig)
        ],
    )


def config_to_yaml(cfg: ExperimentConfig) -> str:
    """The resolved config as YAML; `load_experiment_config(yaml.safe_load(text))` reads it back."""
    return OmegaConf.to_yaml(OmegaConf.create(dataclasses.asdict(cfg)))


def load_experiment_config(cfg: Union[DictConfig, Dict[str, Any]]) -> ExperimentConfig:
    """Validate `cfg` (types, unknown keys, allowed values) and return typed dataclasses."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    defaults = ExperimentConfig()
    chosen = {
        name: _member_for(name, raw.get(name, {}), members, type(getattr(defaults, name)))
        for name, members in _union_fields().items()
    }
    schema = dataclasses.make_dataclass(
        "ResolvedExperimentConfig",
        [
            (f.name, chosen[f.name], dataclasses.field(default_factory=chosen[f.name]))
            if f.name in chosen
            else _copy_field(f)
            for f in dataclasses.fields(ExperimentConfig)
        ],
    )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), raw)
        resolved = OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "config"
        value = OmegaConf.select(OmegaConf.create(raw), key, default=None)
        raise ConfigError(key, value, str(error).splitlines()[0]) from error
    config = ExperimentConfig(**{f.name: getattr(resolved, f.name) for f in dataclasses.fields(resolved)})
    validate_config(config)
    return config
