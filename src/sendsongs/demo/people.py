"""The demo's cast: four people with a Messenger profile and a Spotify account each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from sendsongs.sandbox.messenger_world import MessengerWorld
from sendsongs.sandbox.spotify_world import SpotifyWorld


@dataclass(frozen=True)
class DemoPerson:
    psid: str  # page-scoped id on the sandbox Messenger page
    first_name: str
    last_name: str
    spotify_id: str  # their sandbox Spotify account
    color: str  # avatar colour on the page

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "psid": self.psid,
            "name": self.name,
            "first_name": self.first_name,
            "spotify_id": self.spotify_id,
            "color": self.color,
        }


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("7100000000000001", "Alice", "Liddell", "alice", "#7c4dff"),
    DemoPerson("7100000000000002", "Bob", "Jones", "bob", "#ff7043"),
    DemoPerson("7100000000000003", "Carol", "Danvers", "carol", "#00a3bf"),
    DemoPerson("7100000000000004", "Dan", "Brown", "dan", "#e91e63"),
)


def seed(sandbox: Starlette, people: tuple[DemoPerson, ...] = PEOPLE) -> None:
    """Put the cast on the sandbox's page and in its Spotify, so the page is ready
    the moment the URL is printed."""
    messenger: MessengerWorld = sandbox.state.messenger
    spotify: SpotifyWorld = sandbox.state.spotify
    for person in people:
        messenger.add_user(person.psid, person.first_name, person.last_name)
        spotify.add_user(person.spotify_id, person.name)
