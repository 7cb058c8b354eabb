"""How close a typed name is to a person's name: ignoring case and accents, a first
name or surname alone, or a small typo. Pure functions; stores rank with them."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher
from typing import TypeVar

T = TypeVar("T")

TYPO_RATIO = 0.8  # "Bob Jnoes" ~ "Bob Jones"; "Bob" !~ "Rob Smith"


# what phones and keyboards type for an apostrophe in a name: straight, curly (U+2019,
# U+2018), the modifier letter, an acute accent or a backtick
APOSTROPHES = "'\u2019\u2018\u02bc\u00b4`"
_STRAIGHT = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))


def apostrophe_forms(name: str) -> list[str]:
    """`name` as typed, with straight apostrophes, and with curly ones: the forms a
    stored name may have."""
    if not any(ch in name for ch in APOSTROPHES):
        return [name]
    straight = name.translate(_STRAIGHT)
    return list(dict.fromkeys((name, straight, straight.replace("'", "\u2019"))))


def fold(name: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces:
    "Zoë  O\u2019Müller" -> "zoe o'muller"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_STRAIGHT))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def closeness(typed: str, name: str) -> int | None:
    """0 the same but for case and accents, 1 a whole word of the name (a first
    name, a surname), 2 a small typo of the name or of one of its words; None if
    not close."""
    typed_key, name_key = fold(typed), fold(name)
    if not typed_key:
        return None
    if typed_key == name_key:
        return 0
    words = name_key.split()
    prefix = len(typed_key) >= 3 and " " not in typed_key and name_key.startswith(typed_key)
    if typed_key in words or prefix:
        return 1
    if len(typed_key) < 3:
        return None  # too short to guess a typo from
    candidates = [name_key, *(w for w in words if len(w) >= 3)]
    if any(SequenceMatcher(None, typed_key, c).ratio() >= TYPO_RATIO for c in candidates):
        return 2
    return None


def closest(typed: str, named: Iterable[tuple[str, T]], limit: int) -> list[T]:
    """The items whose name is close to `typed`, closest first (ties keep the order
    given), at most `limit`."""
    ranked = []
    for order, (name, item) in enumerate(named):
        rank = closeness(typed, name)
        if rank is not None:
            ranked.append((rank, order, item))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in ranked[: max(limit, 0)]]
