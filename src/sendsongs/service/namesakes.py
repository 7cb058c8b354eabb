"""Telling people with the same name apart wherever they appear together: where
they are reached, when they joined, how many songs the asker sent them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sendsongs.domain import replies
from sendsongs.domain.models import Person
from sendsongs.domain.names import apostrophe_forms
from sendsongs.ports import Ports

HISTORY_FOR_HINTS = 100  # recent shares read to count the songs sent to each


async def namesakes(
    ports: Ports, asker_id: str, people: Sequence[Person]
) -> list[replies.Namesake]:
    """What tells each of `people` apart, as seen by the person asking."""
    stores = ports.stores
    sent = Counter(
        s.recipient_id for s in await stores.shares.shares_sent_by(asker_id, HISTORY_FOR_HINTS)
    )
    hints = []
    for person in people:
        address = await stores.people.address_of(person.id)
        hints.append(
            replies.Namesake(person, address.channel if address else None, sent[person.id])
        )
    return hints


async def labels(ports: Ports, asker_id: str, people: Sequence[Person]) -> dict[str, str]:
    """Person id → their name, with channel, join date and songs sent added only
    when another of `people` bears the same name."""
    clash = replies.clashing(people)
    told = {
        h.person.id: h
        for h in await namesakes(ports, asker_id, [p for p in people if p.id in clash])
    }
    return {p.id: replies.label(told[p.id], True) if p.id in told else p.name for p in people}


async def find_people(ports: Ports, name: str) -> list[Person]:
    """People called exactly `name` (case aside), a curly apostrophe matching a
    straight one (phones often type U+2019, keyboards ')."""
    found: dict[str, Person] = {}
    for form in apostrophe_forms(name):
        for person in await ports.stores.people.find_people(form):
            found.setdefault(person.id, person)
    return sorted(found.values(), key=lambda p: (p.registered_at, p.id))
