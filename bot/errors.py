"""Expected failures: the CLI prints their message on one line and exits 1, with no traceback."""


class ConsultantError(Exception):
    """An expected, user-facing failure (bad configuration, unreachable database...)."""


class ConfigError(ConsultantError):
    pass
