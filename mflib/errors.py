"""Typed exceptions, one family per kind of failure, each carrying the values a user needs."""

from __future__ import annotations


class MarketFinderError(Exception):
    """Base class of every error the package raises on purpose."""


class ConfigError(MarketFinderError):
    """A parameter is missing, has the wrong type or names something that does not exist."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"parameter {key!r}: {message}")


class FetchError(MarketFinderError):
    """A venue API request failed after all retries, or returned a page that cannot be used."""

    def __init__(self, venue: str, url: str, message: str):
        self.venue = venue
        self.url = url
        super().__init__(f"{venue}: {message} (url: {url})")


class VenueUnreachableError(FetchError):
    """The venue's host could not be reached at all (DNS, connect or TLS failure)."""


class SchemaError(MarketFinderError):
    """A record or file does not have the shape the parser expects."""

    def __init__(self, source: str, message: str):
        self.source = source
        super().__init__(f"{source}: {message}")


class ModelVersionError(MarketFinderError):
    """The committed scoring model was trained with library versions this install cannot load."""


class ReviewError(MarketFinderError):
    """The LLM review layer failed in a way that stops the layer (not a single bad reply)."""


class PublishError(MarketFinderError):
    """Convex rejected a mutation or could not be reached after all retries."""

    def __init__(self, path: str, message: str, status_code: int | None = None):
        self.path = path
        self.status_code = status_code
        super().__init__(f"Convex mutation {path!r} failed: {message}")


class ArtifactValidationError(MarketFinderError):
    """An output artifact does not match its JSON Schema, so it is not written."""

    def __init__(self, artifact: str, message: str):
        self.artifact = artifact
        super().__init__(f"{artifact} does not match its JSON Schema: {message}")
