"""The one exception type for bad configuration, raised before any work starts."""


class ConfigError(ValueError):
    """A configuration value is wrong: the message names the key, the value and what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")
