"""What can go wrong delivering one message, as the delivery loop must act on it.

A notifier's ``send`` raises one of these, never a bare library error and never a ``bool``:
the loop must know whether to try later, drop the message for good, or stop because nobody
knows whether it was delivered. Messages are for a person (Indonesian, with the English
twin); ``detail`` is cut short and never carries a password.
"""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message_id: str, message_en: str, detail: str = "") -> None:
        super().__init__(message_en)
        self.message_id = message_id
        self.message_en = message_en
        self.detail = detail[:500]


class TryLater(DeliveryError):
    """Not delivered, and it may work later: the server is away, busy or said 4xx.
    ``retry_after``: the service's own wait, in seconds, when it named one."""

    def __init__(self, message_id: str, message_en: str, detail: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(message_id, message_en, detail)
        self.retry_after = retry_after


class Gone(DeliveryError):
    """Not delivered, and never will be to this address or chat: drop it and tell the user."""


class Unknown(DeliveryError):
    """The connection broke after the message was handed over: the server may have taken it.
    Delivery is at most once, so it is not sent again."""


class Lost(Exception):
    """Another run of the same delivery got to the irreversible step first: stop quietly."""
