"""Reading request bodies with a ceiling, and what to answer when one cannot be
stored, for the webhooks."""

from __future__ import annotations

from starlette.requests import Request

MAX_BODY = 1024 * 1024  # chat platforms send a few KB per delivery; refuse to buffer floods
# the 503 of a delivery the store could not take: the platform delivers it again
NOT_STORED = "could not store the delivery now; send it again"


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The raw body (a signature covers its exact bytes), or None past `limit` bytes,
    read chunk by chunk so a flood is refused before it is buffered."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
