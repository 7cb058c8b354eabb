"""The demo's cast: four people, each on one chat channel with one play history.

Alice and Carol use Messenger and Spotify; Bob is on Telegram, so a share from Alice
to him crosses channels; Dan's history is on ListenBrainz, read by artist and title."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from sendsongs.domain.models import Address
from sendsongs.sandbox.history_control import HistoryServices
from sendsongs.sandbox.messenger_world import MessengerWorld
from sendsongs.sandbox.spotify_world import SpotifyWorld
from sendsongs.sandbox.telegram_world import TelegramWorld

MESSENGER, TELEGRAM = "messenger", "telegram"
SPOTIFY, LISTENBRAINZ = "spotify", "listenbrainz"


@dataclass(frozen=True)
class DemoPerson:
    key: str  # the page's name for them: "alice"
    first_name: str
    last_name: str
    channel: str  # "messenger" or "telegram"
    chat_id: str  # Messenger PSID, or Telegram user id (= their private chat's id)
    history: str  # "spotify" or "listenbrainz"
    account: str  # their user name on that history service in the sandbox
    color: str  # avatar colour on the page

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def address(self) -> Address:
        return Address(self.channel, self.chat_id)

    @property
    def register_command(self) -> str:
        """What they type to connect: Spotify asks for consent, ListenBrainz only a name."""
        if self.history == LISTENBRAINZ:
            return f'register listenbrainz:"{self.account}"'
        return "/register" if self.channel == TELEGRAM else "register"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "first_name": self.first_name,
            "channel": self.channel,
            "chat_id": self.chat_id,
            "history": self.history,
            "account": self.account,
            "register": self.register_command,
            "color": self.color,
        }


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "alice", "Alice", "Liddell", MESSENGER, "7100000000000001", SPOTIFY, "alice", "#7c4dff"
    ),
    DemoPerson("bob", "Bob", "Jones", TELEGRAM, "710002", SPOTIFY, "bob", "#ff7043"),
    DemoPerson(
        "carol", "Carol", "Danvers", MESSENGER, "7100000000000003", SPOTIFY, "carol", "#00a3bf"
    ),
    DemoPerson(
        "dan", "Dan", "Brown", MESSENGER, "7100000000000004", LISTENBRAINZ, "dan", "#e91e63"
    ),
)


def seed(sandbox: Starlette, people: tuple[DemoPerson, ...] = PEOPLE) -> None:
    """Put the cast in the sandbox's chat apps and histories, so the page is ready the
    moment the URL is printed. Telegram people have not pressed Start yet."""
    messenger: MessengerWorld = sandbox.state.messenger
    telegram: TelegramWorld = sandbox.state.telegram
    spotify: SpotifyWorld = sandbox.state.spotify
    history: HistoryServices = sandbox.state.history
    for person in people:
        if person.channel == TELEGRAM:
            username = f"{person.first_name}{person.last_name[0]}".lower()
            telegram.add_user(
                int(person.chat_id), person.first_name, person.last_name, username, False
            )
        else:
            messenger.add_user(person.chat_id, person.first_name, person.last_name)
        if person.history == LISTENBRAINZ:
            history.listenbrainz.add_user(person.account, person.name)
        else:
            spotify.add_user(person.account, person.name)
