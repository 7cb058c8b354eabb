"""Close names: accents, first names and surnames, small typos."""

from __future__ import annotations

import pytest

from sendsongs.domain.names import closeness, closest, fold


def test_fold_drops_case_accents_and_extra_spaces() -> None:
    assert fold("  Zoë   MÜLLER ") == "zoe muller"


@pytest.mark.parametrize(
    ("typed", "name", "rank"),
    [
        ("zoe muller", "Zoë Müller", 0),
        ("Bob", "Bob Jones", 1),
        ("jones", "Bob Jones", 1),
        ("Zoe", "Zoë Müller", 1),
        ("Ali", "Alice Liddell", 1),  # the start of a first name
        ("Bob Jnoes", "Bob Jones", 2),
        ("Alcie", "Alice Liddell", 2),
        ("Bo", "Bob Jones", None),  # too short to guess from
        ("Rob", "Bob Jones", None),
        ("Carol", "Bob Jones", None),
        ("", "Bob Jones", None),
    ],
)
def test_closeness(typed: str, name: str, rank: int | None) -> None:
    assert closeness(typed, name) == rank


def test_closest_ranks_then_keeps_the_given_order() -> None:
    people = [("Bob Marley", 1), ("Bobby Jones", 2), ("bob", 3), ("Carol", 4)]
    assert closest("Bob", people, 5) == [3, 1, 2]
    assert closest("Bob", people, 1) == [3]
    assert closest("Bob", people, 0) == []
