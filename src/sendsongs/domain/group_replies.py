"""What the bot says about groups and group shares."""

from __future__ import annotations

from collections.abc import Sequence

from sendsongs.domain.models import Reply, Track


def _quoted(name: str) -> str:
    return f'"{name}"'


def created(name: str) -> Reply:
    return Reply(
        f"Created the group {name}. Add friends to it: "
        f'add_to_group group:{_quoted(name)} name:"Friend\'s Name"'
    )


def already_have(name: str) -> Reply:
    return Reply(
        f"You already have a group called {name}. Pick another name, or send groups to see yours."
    )


def unknown_group(name: str, yours: Sequence[str]) -> Reply:
    listed = f" Your groups: {', '.join(yours)}." if yours else ""
    return Reply(
        f"You have no group called {name}.{listed} To make one: create_group name:{_quoted(name)}"
    )


def not_in_group(name: str) -> Reply:
    return Reply(f"You're not in a group called {name}. Send groups to see the ones you're in.")


def not_the_owner(name: str, owner: str) -> Reply:
    return Reply(
        f"Only {owner}, who made {name}, can change it. Ask them — or make your own: "
        f"create_group name:{_quoted(name)}"
    )


def owner_is_in(name: str) -> Reply:
    return Reply(f"You're in {name} already, as its owner.")


def already_member(person: str, group: str) -> Reply:
    return Reply(f"{person} is already in {group}.")


def added(person: str, group: str, size: int) -> Reply:
    return Reply(
        f"Added {person} to {group} ({size} people with you). Send it a song: "
        f"send_song group:{_quoted(group)} https://open.spotify.com/track/…"
    )


def you_were_added(owner: str, group: str) -> Reply:
    return Reply(
        f"{owner} added you to their group {group}: songs sent to it reach you too. "
        f"To leave it, send leave_group group:{_quoted(group)}"
    )


def not_a_member(person: str, group: str, members: Sequence[str]) -> Reply:
    listed = ", ".join(members) if members else "nobody yet"
    return Reply(f"{person} isn't in {group}. Its members: {listed}.")


def removed(person: str, group: str) -> Reply:
    return Reply(f"Removed {person} from {group}.")


def you_were_removed(owner: str, group: str) -> Reply:
    return Reply(f"{owner} removed you from their group {group}.")


def owner_cannot_leave(group: str) -> Reply:
    return Reply(
        f"You made {group}, so you can't leave it. To remove it for everyone: "
        f"delete_group group:{_quoted(group)}"
    )


def left(group: str, owner: str) -> Reply:
    return Reply(f"You left {owner}'s group {group}.")


def member_left(person: str, group: str) -> Reply:
    return Reply(f"{person} left your group {group}.")


def deleted(group: str) -> Reply:
    return Reply(f"Deleted the group {group}.")


def group_deleted(owner: str, group: str) -> Reply:
    return Reply(f"{owner} deleted their group {group}.")


def group_line(name: str, members: Sequence[str], owner: str | None) -> str:
    whose = "" if owner is None else f" ({owner}'s)"
    return f"• {name}{whose}: {', '.join(members)}"


def your_groups(lines: Sequence[str]) -> Reply:
    if not lines:
        return Reply('You have no groups yet. Make one: create_group name:"Friends"')
    return Reply("Your groups:\n" + "\n".join(lines))


def empty_group(name: str) -> Reply:
    return Reply(
        f"Nobody else is in {name} yet. Add someone first: "
        f'add_to_group group:{_quoted(name)} name:"Friend\'s Name"'
    )


def group_sent(
    group: str,
    track: Track,
    delivered: Sequence[str],
    held: Sequence[tuple[str, str]],
    unreadable: Sequence[str],
    pending: Sequence[str],
    waiting: Sequence[str] = (),
) -> Reply:
    """`held`: (name, why it could not be delivered, as the channel explains it);
    `pending`: had it already, delivered and unplayed; `waiting`: had it already,
    but it has not reached them yet."""
    parts = []
    if delivered:
        parts.append(f"Sent {track.title} to {group}: {', '.join(delivered)}.")
    reasons: dict[str, list[str]] = {}
    for name, why in held:  # one sentence per reason, as each channel words it
        reasons.setdefault(why, []).append(name)
    for why, names in reasons.items():
        because = f": {why}" if why else ""
        parts.append(f"Saved it for {', '.join(names)}, but couldn't deliver it yet{because}.")
    if pending:
        parts.append(f"{', '.join(pending)} already had it from you, still unplayed.")
    if waiting:
        parts.append(_waiting(waiting))
    counted = len(delivered) + len(held) - len(unreadable)
    if unreadable:
        parts.append(
            f"I can't see what {', '.join(unreadable)} play right now, so they won't count."
        )
    if counted > 0:
        parts.append("I'll tell you who listened.")
    return Reply(" ".join(parts))


def _waiting(names: Sequence[str]) -> str:
    return (
        f"{', '.join(names)} already {'has' if len(names) == 1 else 'have'} it from you, "
        "but it hasn't reached them yet: I couldn't deliver it so far, and it goes out "
        "as soon as I can reach them."
    )


def all_pending(
    group: str, track: Track, names: Sequence[str], waiting: Sequence[str] = ()
) -> Reply:
    """Nobody got a new share: `names` have it delivered and unplayed, `waiting`
    have it but it never reached them."""
    if not waiting:
        return Reply(
            f"Everyone in {group} ({', '.join(names)}) already has {track.title} from you, "
            "still unplayed. Send status to see where your shares stand."
        )
    parts = [f"I didn't send {track.title} to {group} again."]
    if names:
        parts.append(f"{', '.join(names)} already had it from you, still unplayed.")
    parts.append(_waiting(waiting))
    parts.append("Send status to see where your shares stand.")
    return Reply(" ".join(parts))


def group_summary(
    group: str, track: Track, listened: Sequence[str], missed: Sequence[str]
) -> Reply:
    total = len(listened) + len(missed)
    line = f"{len(listened)} of {total} in {group} listened to {track.title}."
    if missed and listened:
        line += f" Not played: {', '.join(missed)}."
    return Reply(line)
