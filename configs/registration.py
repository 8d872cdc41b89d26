"""Register the experiment schema with Hydra's ConfigStore (name: `ranktrace_schema`)."""
from hydra.core.config_store import ConfigStore

from configs.loading import omegaconf_schema

SCHEMA_NAME = "ranktrace_schema"


def register_configs() -> None:
    """Make `ranktrace_schema` available to a config's defaults list."""
    ConfigStore.instance().store(name=SCHEMA_NAME, node=omegaconf_schema())
