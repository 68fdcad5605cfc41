"""Typed errors that the CLI and GUI turn into one clear message for the user."""


class AsaError(Exception):
    """Base class for every error the user should see as a plain message (never a traceback)."""


class RecordingError(AsaError):
    """The input file or recording cannot be used: the message names the field and what to do."""


class ConfigError(AsaError):
    """A parameter is out of range or inconsistent with the data."""


class Cancelled(AsaError):
    """A stage stopped because its cancel check returned True."""
