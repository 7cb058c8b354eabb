"""Everything the bot says, worded in one place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sendsongs.domain.models import Person, Play, QuickReply, Reply, Track
from sendsongs.domain.names import fold

EXAMPLE_LINK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"


# how people call the sources in chat, and where they fix a history that is empty
SOURCE_NAMES = {"spotify": "Spotify", "listenbrainz": "ListenBrainz", "lastfm": "Last.fm"}
PROFILE_URLS = {
    "listenbrainz": "https://listenbrainz.org/user/",
    "lastfm": "https://www.last.fm/user/",
}
CONNECT_PLAYER = {
    "listenbrainz": "https://listenbrainz.org/settings/music-services/details/",
    "lastfm": "https://www.last.fm/about/trackmymusic",
}


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def help_text(offered: Sequence[str] = (), current: str | None = None) -> Reply:
    """`offered`: the sources registered by user name that this bot has set up;
    `current`: the source the person uses now, if connected."""
    public = "".join(
        f'• register {source}:"your user name" — use your public {source_name(source)} '
        "history instead (any player that scrobbles to it counts)\n"
        for source in offered
    )
    using = f"You're connected through {source_name(current)}.\n\n" if current else ""
    return Reply(
        "Send Songs tells you when a friend actually listened to a song you sent.\n\n"
        f"{using}"
        "• register — connect your Spotify (friends find you by your name in this chat)\n"
        '• register name:"Bob Jones" — connect under another name\n'
        '• register code:"…" name:"Bob Jones" — finish signing up with a code from the web page\n'
        f"{public}"
        '• send_song name:"Bob Jones" pre:"You need this" post:"Told you!" '
        f"{EXAMPLE_LINK} — send a song; pre: goes with it, post: after they listened\n"
        f"• send {EXAMPLE_LINK} to Bob Jones — the same, without notes\n"
        '• create_group name:"Band", then add_to_group group:"Band" name:"Bob Jones" — '
        'a group; send_song group:"Band" … sends to all of it\n'
        '• remove_from_group group:"…" name:"…" · leave_group group:"…" · '
        'delete_group group:"…" · groups — manage and list your groups\n'
        "• status — your recent shares, and songs sent to you not played yet\n"
        "• cancel — stop tracking your latest pending share\n"
        "• forget me — disconnect and erase everything I hold about you\n"
        "• help — this list\n\n"
        "Plays in a Spotify Private Session never reach your history, so they can't count."
    )


def register_link(url: str, name: str, valid_for: timedelta) -> Reply:
    return Reply(
        f"Connect your Spotify as {name} with this link (valid {_span(valid_for)}):\n{url}\n"
        "Spotify will ask to let Send Songs see your recently played tracks."
    )


def _through(source: str, account: str | None) -> str:
    label = source_name(source)
    return f"{label} (user {account})" if account and source in PROFILE_URLS else label


def already_connected(
    name: str, source: str, account: str | None, url: str, valid_for: timedelta
) -> Reply:
    """`register` from someone connected: where they stand, and the link only as
    a way to reconnect Spotify or switch to it."""
    what = "connect again" if source == "spotify" else "switch to Spotify instead"
    return Reply(
        f"You're already connected as {name} through {_through(source, account)}. "
        f"To {what}, use this link (valid {_span(valid_for)}):\n{url}\n"
        'To change only your name, send register name:"New Name".'
    )


def renamed(name: str, source: str, account: str | None, link_source: str) -> Reply:
    """`register name:"…"` from someone connected: the name changes, the source stays."""
    how = (
        f'send register {source}:"your user name" with another user name'
        if source in PROFILE_URLS
        else "send register"
    )
    switch = (
        f"To switch to {source_name(link_source)}, send register."
        if source != link_source
        else f"To connect another account, {how}."
    )
    return Reply(
        f"Done: friends now find you as {name}. You're still connected through "
        f"{_through(source, account)}. {switch}"
    )


def need_a_name(command: str = "register") -> Reply:
    return Reply(
        "I couldn't read your name from this chat. Tell me how friends should find you: "
        f'{command} name:"Your Name"'
    )


def connected(name: str, again: bool) -> Reply:
    opening = "Reconnected" if again else "You're connected"
    return Reply(
        f"{opening}, {name}! Friends can now send you songs, and you can send them: "
        f'send_song name:"Friend\'s Name" {EXAMPLE_LINK}'
    )


def public_connected(
    source: str, name: str, account: str, today: int, latest: Play | None, previous: str | None
) -> Reply:
    """After `register listenbrainz:"…"`: what the history shows, so the person can
    tell it is theirs, and what to do when it shows nothing yet."""
    label = source_name(source)
    if previous is None:
        opening = f"You're connected, {name}! I'll watch {label} user {account}"
    elif previous == source:
        opening = f"Reconnected, {name}! I'll watch {label} user {account}"
    else:
        before = source_name(previous)
        opening = f"Switched, {name}: I'll watch {label} user {account} instead of {before}"
    if latest is None:
        seen = (
            f"Your history is empty so far, so I can't see any listens yet. Connect your "
            f"music player to {label} ({CONNECT_PLAYER.get(source, label)}); what it "
            "records from now on counts."
        )
    elif today:
        seen = f"I see {today} listen{'s' if today != 1 else ''} today (the last 24 hours), "
        seen += f"the latest {_play_title(latest)}."
    else:
        seen = (
            f"I see no listens today (the last 24 hours); the latest was {_play_title(latest)} "
            f"on {latest.played_at:%d %b %Y}. If you listen elsewhere now, connect that "
            f"player to {label} ({CONNECT_PLAYER.get(source, label)})."
        )
    return Reply(
        f"{opening}. {seen}\nFriends can now send you songs, and you can send them: "
        f'send_song name:"Friend\'s Name" {EXAMPLE_LINK}'
    )


def _play_title(play: Play) -> str:
    title = play.title or "a song"
    return f"{title} by {play.artist}" if play.artist else title


def no_such_user(source: str, user: str) -> Reply:
    label = source_name(source)
    return Reply(
        f'I can\'t find a {label} user called "{user}". Check the spelling: it is the name '
        f"at the end of your profile's address, {PROFILE_URLS.get(source, '')}<name>. "
        "Nothing was connected."
    )


def history_private(source: str, user: str) -> Reply:
    return Reply(
        f"{source_name(source)} user {user} hides their recent listening, so I can't see "
        'what you play. On Last.fm open Settings → Privacy, untick "Hide recent listening '
        f'information", save, then send register {source}:"{user}" again. Nothing was connected.'
    )


def source_not_offered(source: str) -> Reply:
    return Reply(
        f"This bot doesn't offer {source_name(source)} histories (its owner hasn't set "
        'that up). Send register to connect Spotify, or register listenbrainz:"your user '
        'name" to use ListenBrainz.'
    )


def source_busy(source: str, minutes: int) -> Reply:
    return Reply(
        f"{source_name(source)} asked me to slow down for a while. Please send that again "
        f"in {max(1, minutes)} minute{'s' if minutes > 1 else ''}. Nothing was connected yet."
    )


def source_unavailable(source: str) -> Reply:
    return Reply(
        f"{source_name(source)} isn't answering right now. Please send that again in a few "
        "minutes. Nothing was connected yet."
    )


def history_refused(source: str, account: str | None) -> Reply:
    """A public history that can no longer be read (made private, renamed, deleted)."""
    user = account or "your user name"
    return Reply(
        f"I can no longer read the {source_name(source)} history of {user} (it was made "
        "private, renamed or deleted), so I can't tell friends you listened. Fix it, then "
        f'send register {source}:"{user}" again.'
    )


def bad_code(login_url: str) -> Reply:
    return Reply(
        "That code is unknown, used or expired (codes last 15 minutes). "
        f"Get a new one at {login_url}"
    )


def not_registered() -> Reply:
    return Reply(
        "First connect your play history so friends can send you songs too: send register "
        "(Spotify), or send help for the other ways."
    )


def send_to_whom(name: str) -> Reply:
    """A message that is just a known person's name."""
    return Reply(
        f'To send {name} a song, write: send_song name:"{name}" '
        "https://open.spotify.com/track/… (paste the song's link)."
    )


def nobody_called(name: str) -> Reply:
    return Reply(
        f'I don\'t know anyone called "{name}". Check the spelling — or ask them to '
        "write to me and send register first."
    )


@dataclass(frozen=True)
class Namesake:
    """What tells one of several people with the same name apart."""

    person: Person
    channel: str | None  # where they are reached, e.g. "telegram"
    songs_from_you: int


def told_apart(one: Namesake) -> str:
    """ "on Telegram, joined 3 Mar 2026, 2 songs from you"."""
    joined = f"joined {one.person.registered_at:%-d %b %Y}"
    where = f"on {one.channel.capitalize()}, " if one.channel else ""
    sent = one.songs_from_you
    history = f", {sent} song{'s' if sent != 1 else ''} from you" if sent else ""
    return f"{where}{joined}{history}"


def clashing(people: Sequence[Person]) -> set[str]:
    """The ids of people in `people` whose name another one there also bears."""
    count = Counter(fold(p.name) for p in people)
    return {p.id for p in people if count[fold(p.name)] > 1}


def label(one: Namesake, clash: bool) -> str:
    """The name, and what tells the person apart when another one shares it."""
    return f"{one.person.name} ({told_apart(one)})" if clash else one.person.name


def _button(one: Namesake, clash: bool) -> str:
    if not clash:
        return one.person.name[:20]
    short = one.channel.capitalize() if one.channel else ""
    first = one.person.name.split()[0][:8] if one.person.name.split() else ""
    title = f"{first} {short} {one.person.registered_at:%-d %b}"
    return " ".join(title.split())[:20]


def which_one(name: str, people: Sequence[Namesake], payloads: Sequence[str]) -> Reply:
    lines, buttons = [], []
    for i, (one, payload) in enumerate(zip(people, payloads, strict=True), 1):
        lines.append(f"{i}. {one.person.name}: {told_apart(one)}")
        short = one.channel.capitalize() if one.channel else ""
        title = f"{i}. {short} {one.person.registered_at:%-d %b}".replace("  ", " ")
        buttons.append(QuickReply(title=title[:20], payload=payload))
    return Reply(
        f"{len(people)} people are called {name}. Which one?\n" + "\n".join(lines),
        tuple(buttons),
    )


def did_you_mean(name: str, people: Sequence[Namesake], payloads: Sequence[str]) -> Reply:
    """Close names offered for a name nobody has: first names, accents, typos; two
    people with one name are told apart."""
    clash = clashing([one.person for one in people])
    names = ", ".join(label(one, one.person.id in clash) for one in people)
    buttons = tuple(
        QuickReply(title=_button(one, one.person.id in clash), payload=payload)
        for one, payload in zip(people, payloads, strict=True)
    )
    return Reply(f'I don\'t know anyone called "{name}". Did you mean {names}?', buttons)


def which_group(name: str, owners: Sequence[str], payloads: Sequence[str]) -> Reply:
    buttons = tuple(
        QuickReply(title=f"{owner}'s"[:20], payload=payload)
        for owner, payload in zip(owners, payloads, strict=True)
    )
    listed = ", ".join(f"{owner}'s" for owner in owners)
    return Reply(f"You're in several groups called {name} ({listed}). Which one?", buttons)


def not_to_yourself(name: str) -> Reply:
    return Reply(
        f"That's you, {name}! Songs go to friends — send it to someone else: "
        f'send_song name:"Friend\'s Name" {EXAMPLE_LINK}'
    )


def already_pending(friend: Person, track: Track, undelivered: bool = False) -> Reply:
    """`track`: the song they have (the same recording, maybe another release);
    `undelivered`: it was saved for them but has not reached them yet."""
    if undelivered:
        return Reply(
            f"I already saved {track.title} for {friend.name}, but it hasn't reached them "
            "yet: it goes out as soon as I can reach them, so I didn't save it again. "
            "Send status to see where your shares stand."
        )
    return Reply(
        f"{friend.name} already has {track.title} from you and hasn't played it yet, "
        "so I didn't send it again. Send status to see where your shares stand."
    )


def unknown_track(track_id: str) -> Reply:
    return Reply(f"Spotify doesn't know the song {track_id}. Check the link and send it again.")


def music_unavailable() -> Reply:
    return Reply("Spotify isn't answering right now. Please send that again in a minute.")


def only_text(link: str | None) -> Reply:
    """For a message without a command: the song it carries, as a command to copy."""
    if link is not None:
        return Reply(f'To send that song, write: send_song name:"Friend\'s Name" {link}')
    return Reply("I only read text messages. Send help to see what I can do.")


def short_link_not_a_track(link: str) -> Reply:
    return Reply(
        f"{link} leads to an album, a playlist or another page, not a song. In Spotify, "
        "open the song itself, then Share → Copy Song Link."
    )


def short_link_dead(link: str) -> Reply:
    return Reply(
        f"{link} doesn't work: Spotify doesn't know it, or it has expired. In Spotify, "
        "open the song, then Share → Copy Song Link, and paste the new link."
    )


def music_paused(minutes: int) -> Reply:
    return Reply(
        "Spotify asked me to slow down for a while. Please send that again in "
        f"{max(1, minutes)} minute{'s' if minutes > 1 else ''}."
    )


def share_for_friend(sender: str, pre: str | None, track: Track) -> Reply:
    note = f" {pre}" if pre else ""
    return Reply(f"{sender}:{note} {track.url}")


def share_sent(friend: Person, track: Track, readable: bool) -> Reply:
    return Reply(f"Sent {track.title} to {friend.name}. {_promise(friend, readable)}")


def sentence(text: str) -> str:
    """`text` as a sentence of its own: a capital first letter, one full stop."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def share_waiting(friend: Person, track: Track, why: str, readable: bool) -> Reply:
    reason = f" {sentence(why)}" if why else ""
    return Reply(
        f"Saved {track.title} for {friend.name}, but I couldn't deliver it yet.{reason} "
        "I keep it for a week. "
        f"{_promise(friend, readable)}"
    )


def held_lapsed(friend: str, waited: timedelta) -> Reply:
    return Reply(
        f"I couldn't deliver your song to {friend} within {_span(waited)}, so I gave up "
        "on it. Send it again once they've written to me."
    )


def _promise(friend: Person, readable: bool) -> str:
    """Promise a "listened" notice only when the friend's history can be read."""
    if readable:
        return "I'll tell you when they've listened."
    return (
        f"I can't see what {friend.name} plays right now (their connection needs "
        "renewing or isn't allowed), so I can't tell you when they listen; I've "
        "asked them to fix it."
    )


def friend_listened(friend: str, track: Track) -> Reply:
    return Reply(f"{friend} listened to {track.title}!")


def post_note(sender: str, post: str, track: Track) -> Reply:
    return Reply(f'{sender} says "{post}" about {track.title}')


def share_expired(friend: str, track: Track, after: timedelta) -> Reply:
    return Reply(
        f"{friend} didn't listen to {track.title} within {_span(after)}; the share expired."
    )


def share_expired_unread(friend: str, track: Track, after: timedelta) -> Reply:
    return Reply(
        f"The share of {track.title} with {friend} ended after {_span(after)}. I couldn't "
        f"read {friend}'s play history, so I can't tell whether they listened."
    )


# what a spent button (used already, or older than an hour) advises, per command
_SPENT = {
    "send_song": "If the song hasn't gone out, send the send_song command again; "
    "status shows what you've sent.",
    "add_to_group": "Send groups to see who is in your groups, or send the add_to_group "
    "command again.",
    "cancel": "Send status to see which shares are still pending, or cancel to stop "
    "the latest one.",
    "forget_me": "If you still want me to erase everything, send forget me again.",
}


def choice_expired(kind: str | None = None) -> Reply:
    """A button that was used already or is older than an hour; `kind`: its
    command ("send_song", "cancel", …), when the button says."""
    advice = _SPENT.get(kind or "", "Send status to see where things stand, or help.")
    return Reply(f"That button was already used or has expired (buttons last an hour). {advice}")


def account_taken() -> str:
    return (
        "This account is already connected to someone else in Send Songs. "
        "Sign in with your own account (log out of the other one first)."
    )


def access_refused() -> Reply:
    return Reply(
        "Spotify doesn't let this bot read your listening history: the bot's Spotify app "
        "is in development mode, which admits only the people its owner has added. Ask "
        "the bot's owner to add your Spotify account in the Spotify dashboard, then send "
        "register again. Until then friends can send you songs, but I can't tell them "
        "when you've listened."
    )


def access_refused_page() -> str:
    return (
        "Spotify doesn't let this bot read your listening history: the bot's Spotify app "
        "admits only the people its owner has added in the Spotify dashboard. Ask the "
        "bot's owner to add you, then send register again. Friends can send you songs "
        "meanwhile, but I can't tell them when you've listened."
    )


def broken_text() -> Reply:
    return Reply(
        "Part of your message arrived broken (half an emoji, perhaps), so I couldn't "
        "read it. Please send it again."
    )


def edit_not_followed() -> Reply:
    return Reply(
        "I saw you edit a message, but I only act on messages as they were first sent"
        " (an edit must not send a song twice). If something needs correcting, send the"
        " corrected message again as a new one."
    )


def internal_error() -> Reply:
    return Reply("Sorry, something went wrong on my side. Please try again in a minute.")


def renew_soon(lapses_at: datetime, link: str) -> Reply:
    return Reply(
        f"Spotify ends my access to your plays on {lapses_at:%d %b %Y} (six months after "
        "you connected), and then I can't tell friends when you've listened. Renew it "
        f"now with one tap: {link}"
    )


def reconnect_needed(link: str) -> Reply:
    return Reply(
        "Spotify no longer lets me see what you play, so I can't tell friends you listened. "
        f"Reconnect with this link: {link}"
    )


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def forget_question(payload: str, valid_for: timedelta) -> Reply:
    return Reply(
        "This disconnects your Spotify and erases everything I hold about you: your name, "
        "your connection, the songs you sent and were sent, and messages waiting for you. "
        "Friends won't be able to send you songs. It can't be undone. "
        f"Send yes within {_span(valid_for)} to go ahead; anything else keeps you.",
        (QuickReply(title="Yes, forget me", payload=payload),),
    )


def forgotten() -> Reply:
    return Reply(
        "Done: I've erased everything I held about you and disconnected your Spotify. "
        "You can also remove Send Songs from your Spotify account's Apps page. "
        "If you write to me again, you start as someone new."
    )


def nothing_to_confirm() -> Reply:
    return Reply("There's no question waiting for a yes. Send help to see what I can do.")


def share_ended_erased(track: Track, shared_at: datetime) -> Reply:
    # no name: this message may wait in the outbox, and the person asked to be erased
    return Reply(
        f"The friend you sent {track.title} to on {shared_at:%d %b %Y} asked me to erase "
        "everything I held about them, so that share has ended and I can't tell whether "
        "they listened."
    )


def too_many(what: str, per: timedelta, wait: timedelta) -> Reply:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))  # rounded up
    return Reply(
        f"That's more {what} than I take from one person in {_span(per)}. Please try "
        f"again in {minutes} minute{'s' if minutes > 1 else ''}."
    )
