"""One small hierarchy of errors, raised with context and chained with ``from e``."""

from __future__ import annotations


class TbtAlertError(Exception):
    """Base of every error tbt-alert raises on purpose."""


class ConfigError(TbtAlertError):
    """The configuration is wrong; the message names the key."""


class RecordError(TbtAlertError):
    """A canonical record is malformed; the message names the field."""


class SymbolError(TbtAlertError):
    """A WTO document symbol cannot be read."""


class RulesError(TbtAlertError):
    """The sector rules file is invalid; the message names the file and the entry."""


class CrawlError(TbtAlertError):
    """A crawl failed: the source was unreachable, or returned nothing or garbage."""


class DeliveryError(TbtAlertError):
    """A message could not be rendered or handed to the mail server."""


class StorageError(TbtAlertError):
    """The database is missing, out of date or cannot be reached."""


class InputError(TbtAlertError):
    """A file or option given by the user cannot be used; the message names it and why."""


class LockedError(TbtAlertError):
    """Another process holds the lock on this database for crawling and sending."""
