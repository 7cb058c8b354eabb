"""The chat grammar: turn what a person typed into one command, or say what is wrong.

    help
    register [name:"Bob Jones"]
    register code:"<code>" name:"Bob Jones"
    register listenbrainz:"<user>" [name:"Bob Jones"]   (or lastfm:"<user>")
    send_song name:"Bob Jones" [pre:"..."] [post:"..."] <spotify track link>
    send_song group:"Band" [pre:"..."] [post:"..."] <spotify track link>
    send <spotify track link> to Bob Jones
    create_group name:"Band" · add_to_group group:"Band" name:"Bob Jones"
    remove_from_group group:"Band" name:"Bob Jones" · leave_group group:"Band"
    delete_group group:"Band" · groups · status · cancel
    forget me            (then `yes` to confirm)

Fields come in any order and as `key:"quoted value"` (a space after the colon is
fine), `key:'quoted value'` or `key:word`; phones' curly quotes count as straight
ones. A field given twice, or two songs in one message, is refused. `send` is short
for `send_song`. A slightly misspelt command word gets "did you mean …".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches

from sendsongs.domain.links import (
    find_short_link,
    find_track_id,
    mentions_spotify,
    song_links,
    track_url,
)

MAX_NOTE = 300  # two notes must fit a 1,000-character quick-reply payload
MAX_NAME = 60


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Register:
    name: str | None = None


@dataclass(frozen=True)
class RegisterWithCode:
    code: str
    name: str


@dataclass(frozen=True)
class RegisterUserName:
    """Use a public play history (ListenBrainz, Last.fm) named by its user name."""

    source: str  # "listenbrainz" | "lastfm"
    user: str
    name: str | None = None


@dataclass(frozen=True)
class SendSong:
    name: str  # empty when sent to a group
    track_id: str  # empty while only a short link is known
    pre: str | None = None
    post: str | None = None
    recipient_id: str | None = None  # set when the sender picked among namesakes
    short_link: tuple[str, str] | None = None  # (host, code), resolved by the service
    group: str | None = None  # the group's name, for `send_song group:"…"`
    group_id: str | None = None  # set when the sender picked among groups


@dataclass(frozen=True)
class CreateGroup:
    name: str


@dataclass(frozen=True)
class AddToGroup:
    group: str
    name: str
    person_id: str | None = None  # set when the owner picked among close names


@dataclass(frozen=True)
class RemoveFromGroup:
    group: str
    name: str


@dataclass(frozen=True)
class LeaveGroup:
    group: str


@dataclass(frozen=True)
class DeleteGroup:
    group: str


@dataclass(frozen=True)
class ListGroups:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class ForgetMe:
    """Erase everything held about the person; `confirmed` once they said yes."""

    confirmed: bool = False


@dataclass(frozen=True)
class Yes:
    """A bare `yes`: the answer to a question the bot asked (today: `forget me`)."""


@dataclass(frozen=True)
class Cancel:
    send_key: str | None = None  # set when the sender picked a share; None: the latest


Command = (
    Help
    | Register
    | RegisterWithCode
    | RegisterUserName
    | SendSong
    | CreateGroup
    | AddToGroup
    | RemoveFromGroup
    | LeaveGroup
    | DeleteGroup
    | ListGroups
    | Status
    | Cancel
    | ForgetMe
    | Yes
)


class CommandError(ValueError):
    """What is wrong with a message, worded for the person who sent it."""


class UnknownCommand(CommandError):
    """The message starts with no command word: maybe just a name."""


_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'))
# a space may follow the colon before a quoted value: name: "Bob Jones"
# single quotes too, straight or curly (U+2018, U+2019): name:'Chloé Dubois' (an
# apostrophe inside is kept: only a quote followed by a space or the end closes it)
_FIELD = re.compile(
    r'(?P<key>[A-Za-z_]+):(?:[ \t]*"(?P<quoted>.*?)"(?=\s|$)'
    r"|[ \t]*['\u2018\u2019](?P<single>.*?)['\u2018\u2019](?=\s|$)"
    r'|(?P<bare>[^\s"]+))',
    re.S,
)
_WORDS = {
    "help": "help", "?": "help", "hi": "help", "hello": "help", "start": "help",
    "get started": "help", "register": "register", "connect": "register",
    "send_song": "send_song", "send": "send_song", "share": "send_song",
    "create_group": "create_group", "add_to_group": "add_to_group",
    "remove_from_group": "remove_from_group", "leave_group": "leave_group",
    "delete_group": "delete_group", "groups": "groups", "status": "status",
    "cancel": "cancel", "forget me": "forget me", "yes": "yes",
}  # fmt: skip
# the sources whose histories are public and named by a user name
USER_NAME_SOURCES = ("listenbrainz", "lastfm")
MAX_USER = 64  # ListenBrainz (MusicBrainz) names are the longer ones; Last.fm's are 2-15
_FIELDS = {
    "register": {"name", "code", *USER_NAME_SOURCES},
    "send_song": {"name", "group", "pre", "post"},
    "create_group": {"name"},
    "add_to_group": {"group", "name"},
    "remove_from_group": {"group", "name"},
    "leave_group": {"group"},
    "delete_group": {"group"},
    "groups": set(),
    "status": set(),
    "cancel": set(),
}
_EXAMPLE = {
    "name": 'name:"Bob Jones"', "group": 'group:"Band"', "pre": 'pre:"You need this"',
    "post": 'post:"Told you!"', "code": 'code:"ab12…"', "listenbrainz": 'listenbrainz:"rj"',
    "lastfm": 'lastfm:"rj"',
}  # fmt: skip
_BARE: dict[str, Command] = {"help": Help(), "groups": ListGroups(), "status": Status(),
                             "cancel": Cancel()}  # fmt: skip
_SUGGESTIBLE = sorted(word for word in _WORDS if len(word) >= 4 and " " not in word)
_LINK_SCHEMES = {"http", "https", "spotify"}
_TO = re.compile(r"(?:^|\s)to\s+(?P<name>[^\s:/][^:/]*?)\s*$", re.IGNORECASE)


def parse(text: str) -> Command:
    """Parse one chat message; raises CommandError with a helpful reply."""
    text = text.translate(_QUOTES).strip()
    word, _, rest = text.partition(" ")
    bare = " ".join(text.lower().rstrip("!.").split())  # "Yes!", "forget  me."
    verb = _WORDS.get(bare) or _WORDS.get(word.lower())
    if verb is None and bare.startswith("forget me "):
        verb = "forget me"
    if verb is None:
        raise UnknownCommand(_unknown(text, word, rest))
    if verb in _BARE:
        return _BARE[verb]
    if verb in ("forget me", "yes"):
        if bare != verb:  # only the bare words: nothing is erased by accident
            raise CommandError(f'Send just "{verb}", nothing else, to do that.')
        return ForgetMe() if verb == "forget me" else Yes()
    fields, leftover = _fields(rest, verb)
    if verb == "register":
        return _register(fields)
    if verb == "send_song":
        return _send_song(fields, leftover)
    return _group_command(verb, fields)


def _group_command(verb: str, fields: dict[str, str]) -> Command:
    if verb == "create_group":
        return CreateGroup(_required(fields, "name", verb, example='name:"Band"'))
    group = _required(fields, "group", verb)
    if verb == "add_to_group":
        return AddToGroup(group, _required(fields, "name", verb))
    if verb == "remove_from_group":
        return RemoveFromGroup(group, _required(fields, "name", verb))
    if verb == "leave_group":
        return LeaveGroup(group)
    return DeleteGroup(group)


def _required(fields: dict[str, str], key: str, verb: str, example: str | None = None) -> str:
    value = _name(fields.get(key), example or _EXAMPLE[key])
    if value is None:
        example = {
            "create_group": 'create_group name:"Band"',
            "add_to_group": 'add_to_group group:"Band" name:"Bob Jones"',
            "remove_from_group": 'remove_from_group group:"Band" name:"Bob Jones"',
            "leave_group": 'leave_group group:"Band"',
            "delete_group": 'delete_group group:"Band"',
        }[verb]
        raise CommandError(f"{verb} needs {key}: — e.g. {example}")
    return value


def _fields(rest: str, verb: str) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}
    allowed = _FIELDS[verb]

    def take(match: re.Match[str]) -> str:
        key = match["key"].lower()
        if key in _LINK_SCHEMES:
            return match.group(0)  # a link, not a field
        if key not in allowed:
            known = ", ".join(f"{k}:" for k in sorted(allowed))
            raise CommandError(f"I don't know the field {key}: — {verb} understands {known}.")
        if key in fields:  # the first would be lost without a word
            raise CommandError(f"{key}: is given twice — give it once, e.g. {_EXAMPLE[key]}.")
        value = next(v for v in (match["quoted"], match["single"], match["bare"]) if v is not None)
        fields[key] = " ".join(value.split())
        return " "

    leftover = _FIELD.sub(take, rest)
    if '"' in leftover:
        raise CommandError('A quote is not closed — write fields like name:"Bob Jones".')
    return fields, leftover


def _register(fields: dict[str, str]) -> Register | RegisterWithCode | RegisterUserName:
    name = _name(fields.get("name"))
    code = fields.get("code")
    sources = [source for source in USER_NAME_SOURCES if source in fields]
    if sources:
        return _register_user_name(sources, fields, name, code)
    if code is None:
        return Register(name=name)
    if not code:
        raise CommandError('The code is empty — copy it from the page, e.g. code:"ab12…".')
    if name is None:
        raise CommandError(
            "Also tell me your name, so friends can find you: "
            f'register code:"{code}" name:"Your Name"'
        )
    return RegisterWithCode(code=code, name=name)


def _register_user_name(
    sources: list[str], fields: dict[str, str], name: str | None, code: str | None
) -> RegisterUserName:
    if len(sources) > 1 or code is not None:
        raise CommandError(
            "One history at a time: send either "
            'register listenbrainz:"your user name" or register lastfm:"your user name".'
        )
    source = sources[0]
    user = fields[source]
    if not user:
        raise CommandError(f'The user name is empty — e.g. register {source}:"your user name".')
    if len(user) > MAX_USER or any(ch in user for ch in "/?#"):
        raise CommandError(
            f"That doesn't look like a user name. Write the name from your profile's "
            f'address, e.g. register {source}:"rj".'
        )
    return RegisterUserName(source=source, user=user, name=name)


def _send_song(fields: dict[str, str], leftover: str) -> SendSong:
    typed = fields.get("name")
    group = _name(fields.get("group"), _EXAMPLE["group"])
    if group is not None and typed is not None:
        raise CommandError("Give either name: or group:, not both — send two messages instead.")
    name = _name(typed if typed is not None else _addressee(leftover))
    if group is not None:
        name = ""
    if len(song_links(leftover)) > 1:  # only the first would go, without a word
        raise CommandError(
            "One song at a time, please: send each link in its own send_song message."
        )
    track_id = find_track_id(leftover)
    short_link = None if track_id is not None else find_short_link(leftover)
    if track_id is None and short_link is None:
        if mentions_spotify(leftover):
            raise CommandError(
                "That isn't a Spotify song link. In Spotify, open the song, then "
                "Share → Copy Song Link, and paste it here."
            )
        raise CommandError(
            "Add the song's Spotify link, e.g. "
            'send_song name:"Bob Jones" https://open.spotify.com/track/…'
        )
    if name is None:
        raise CommandError(
            "Who should get it? Add your friend's name, e.g. "
            'send_song name:"Bob Jones" https://open.spotify.com/track/…'
        )
    pre, post = _note(fields, "pre"), _note(fields, "post")
    return SendSong(
        name=name,
        track_id=track_id or "",
        pre=pre,
        post=post,
        short_link=short_link,
        group=group,
    )


def shared_link(text: str) -> str | None:
    """The Spotify track link (or short link) in a text or attachment url, written
    the way the bot suggests it back; None if there is none."""
    track_id = find_track_id(text)
    if track_id is not None:
        return track_url(track_id)
    short = find_short_link(text)
    return None if short is None else f"https://{short[0]}/{short[1]}"


def _addressee(leftover: str) -> str | None:
    """The friendlier form: `send <link> to Bob Jones`."""
    match = _TO.search(leftover)
    return " ".join(match["name"].split()) if match else None


def _name(value: str | None, example: str | None = None) -> str | None:
    if value is None:
        return None
    if not value:
        raise CommandError(
            f"The name is empty — write it in quotes, e.g. {example or _EXAMPLE['name']}."
        )
    if len(value) > MAX_NAME:
        raise CommandError(f"That name is too long (at most {MAX_NAME} characters).")
    return value


def _note(fields: dict[str, str], key: str) -> str | None:
    value = fields.get(key) or None
    if value is not None and len(value) > MAX_NOTE:
        raise CommandError(f"The {key}: note is too long (at most {MAX_NOTE} characters).")
    return value


def _unknown(text: str, word: str, rest: str) -> str:
    guess = get_close_matches(word.lower(), _SUGGESTIBLE, n=1, cutoff=0.75)
    if guess:  # a slip of the fingers: offer the same message with the word fixed
        fixed = f"{guess[0]} {rest}".strip()
        try:
            parse(fixed)
        except CommandError as wrong:  # fixing the word is not enough: say what else
            return f"Did you mean {guess[0]}? Even then: {wrong}"
        return f"Did you mean {guess[0]}? Send: {fixed}"
    link = shared_link(text)
    if link is not None:  # a bare link, as Spotify's Share button pastes it
        return f'Who should get it? Send: send_song name:"Friend\'s Name" {link}'
    shown = text if len(text) <= 40 else text[:40] + "…"
    return f'I don\'t understand "{shown}". Send help to see what I can do.'
