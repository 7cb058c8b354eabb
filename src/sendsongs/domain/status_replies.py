"""What the bot says for `status` and `cancel`: where a person's shares stand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sendsongs.domain.models import QuickReply, Reply, Share, ShareStatus, Track


def ago(then: datetime, now: datetime) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "2 days ago" (no time zone needed)."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def one_share_state(share: Share, now: datetime) -> str:
    """Where one share stands, in a few words."""
    if share.status is ShareStatus.LISTENED and share.settled_at is not None:
        return f"listened {ago(share.settled_at, now)}"
    if share.status is ShareStatus.EXPIRED:
        return "expired — couldn't read their history" if share.unread else "expired unplayed"
    if share.status is ShareStatus.CANCELLED:
        return "cancelled"
    if share.delivered_at is not None:
        return "delivered, not played yet"
    return "pending, not delivered yet"


def share_line(share: Share, recipient: str, now: datetime) -> str:
    return f"• {share.track.title} → {recipient}, {ago(share.shared_at, now)}: " + one_share_state(
        share, now
    )


def group_line(shares: Sequence[Share], now: datetime) -> str:
    """A group send as "2 of 3 listened", with how many are pending or cancelled."""
    first = shares[0]
    count = Counter(s.status for s in shares)
    if count[ShareStatus.CANCELLED] == len(shares):
        state = "cancelled"
    else:
        state = f"{count[ShareStatus.LISTENED]} of {len(shares)} listened"
        for status, word in (
            (ShareStatus.PENDING, "pending"),
            (ShareStatus.CANCELLED, "cancelled"),
        ):
            if count[status]:
                state += f", {count[status]} {word}"
        unread = sum(1 for s in shares if s.status is ShareStatus.EXPIRED and s.unread)
        if unread:
            state += f", {unread} expired — couldn't read their history"
    return f"• {first.track.title} → {first.group_name}, {ago(first.shared_at, now)}: {state}"


def received_line(share: Share, sender: str, now: datetime) -> str:
    return f"• {share.track.title} from {sender}, {ago(share.shared_at, now)}: {share.track.url}"


def status(sent: Sequence[str], received: Sequence[str]) -> Reply:
    parts = []
    if sent:
        parts.append("Your recent shares:\n" + "\n".join(sent))
    else:
        parts.append(
            "You haven't sent any songs yet. Try: "
            'send_song name:"Friend\'s Name" https://open.spotify.com/track/…'
        )
    if received:
        parts.append("Sent to you, not played yet:\n" + "\n".join(received))
    return Reply("\n\n".join(parts))


def nothing_to_cancel() -> Reply:
    return Reply("Nothing of yours is waiting to be played. Send status to see your shares.")


def cancelled(track: Track, to: str, others: Sequence[tuple[str, str]]) -> Reply:
    """`others`: (button title, payload) of the other pending shares."""
    text = f"Stopped tracking {track.title} to {to}; I won't tell you whether they listen."
    if others:
        text += " Cancel another one too?"
    buttons = tuple(QuickReply(title[:20], payload) for title, payload in others)
    return Reply(text, buttons)


def cancel_gone() -> Reply:
    return Reply("That share isn't pending any more. Send status to see where it stands.")
