"""Every exception Send Songs raises, in one tree.

    SendSongsError
    ├── ConfigError                  a setting is missing or invalid
    ├── StoreError                   the database cannot be used
    ├── UnreadableUpdate             a stored chat update is not one its channel sends
    └── ServiceError                 an outside service (chat or music) failed
        ├── TransientError           worth retrying later (5xx, timeout, network)
        │   └── RateLimited          429: wait `retry_after` seconds
        ├── AccessTokenRejected      401: refresh the access token, then retry once
        ├── GrantRevoked             invalid_grant: the person must reconnect
        ├── AccessRefused            the source will not show this person's history
        ├── NotFound                 the thing asked for does not exist
        │   └── NotATrack            a link that leads somewhere, but not to a song
        ├── ChannelUnavailable       chat: the operator must act (e.g. a revoked token)
        ├── RecipientUnreachable     chat: outside the 24-hour window, blocked, gone
        └── PartlyDelivered          chat: the first parts of a split text arrived

Adapters translate httpx errors and vendor error bodies into these; the service
never sees a vendor type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sendsongs.domain.models import Reply


class SendSongsError(Exception):
    """Base of all our errors."""


class ConfigError(SendSongsError):
    """A setting is missing or invalid; the message names the variable."""


class StoreError(SendSongsError):
    """The store cannot be used."""


class UnreadableUpdate(SendSongsError):
    """A stored update cannot be read as its channel's updates are (not JSON, a
    field of the wrong type, a required field missing); the message says what."""


class ServiceError(SendSongsError):
    """An outside service failed."""


class TransientError(ServiceError):
    """A failure that may go away on its own: retry later."""


class RateLimited(TransientError):
    """The service asked us to slow down."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message} (retry after {retry_after:g}s)")
        self.retry_after = retry_after


class AccessTokenRejected(ServiceError):
    """The access token was refused (401); a refreshed one may work."""


class GrantRevoked(ServiceError):
    """The person revoked access or the refresh token is no longer valid."""


class NotFound(ServiceError):
    """The service does not know the thing asked for."""


class NotATrack(NotFound):
    """The link works but leads to something that is not a song (an album, a
    playlist, a page outside the catalog)."""


class AccessRefused(ServiceError):
    """The source refuses this app access to the person's history (e.g. Spotify's
    development mode admits only the users listed in its dashboard)."""


class ChannelUnavailable(ServiceError):
    """The channel refuses the bot itself (an invalidated Page token, a revoked bot
    token): nothing is delivered to anyone until the operator acts, so messages
    are kept, not dropped."""


class RecipientUnreachable(ServiceError):
    """The chat channel will not deliver to this person now.

    `explanation` says why, in words a sender can read ("… only lets me write
    within 24 hours of their last message …"); channels fill it in.
    """

    def __init__(self, message: str, explanation: str = "") -> None:
        super().__init__(message)
        self.explanation = explanation


class PartlyDelivered(ServiceError):
    """A text split for the channel's length limit failed after its first parts
    arrived: `rest` is what is still owed, `cause` why it stopped."""

    def __init__(self, rest: Reply, cause: ServiceError) -> None:
        super().__init__(f"delivered in part: {cause}")
        self.rest, self.cause = rest, cause
