"""Text as chat channels send and take it: long replies cut into messages a channel
accepts (each has its own limit), and text that arrived broken made storable."""

from __future__ import annotations

REPLACEMENT_CHARACTER = "\ufffd"


def mend_surrogates(text: str) -> str:
    """`text` with each half of a surrogate pair that stands alone replaced by
    U+FFFD. JSON may escape one ("\\ud83c"), Python decodes it, and no UTF-8 store,
    signer or channel can hold it; the rest of the text is kept, and the person can
    be told part of it arrived broken."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, preferring to cut between
    paragraphs, then lines, then words; a single overlong word is cut where it must."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]  # a separator right at the limit is a clean cut
        cut = _boundary(window, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def _boundary(window: str, limit: int) -> int:
    # A boundary in the first half would leave a stub message; look for a weaker
    # boundary later in the window before settling for it.
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator, 0, limit + 1)
        if at >= limit // 2:
            return at
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator, 0, limit + 1)
        if at > 0:
            return at
    return limit
