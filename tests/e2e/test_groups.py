"""Four people, one group, a group share: two members listen, the third does not;
then `status` and `cancel` — all through `sendsongs serve` and `sendsongs sandbox`."""

from __future__ import annotations

from tests.e2e.harness import Bot, Sandbox, consent, link_in

TRACK = "46X0dXeliHXD73sxexJx7d"
PEOPLE = {  # psid: (first name, last name, spotify user)
    "1000000000000011": ("Alice", "Liddell", "alice.spotify"),
    "1000000000000012": ("Bob", "Jones", "bob.spotify"),
    "1000000000000013": ("Carol", "Chu", "carol.spotify"),
    "1000000000000014": ("Dan", "Dare", "dan.spotify"),
}
ALICE, BOB, CAROL, DAN = PEOPLE


def register(bot: Bot, sandbox: Sandbox, psid: str) -> None:
    first, last, user = PEOPLE[psid]
    sandbox.post("/_sandbox/messenger/users", psid=psid, first_name=first, last_name=last)
    sandbox.post("/_sandbox/spotify/users", id=user, display_name=first)
    sandbox.say(psid, "register")
    login = bot.http.get(link_in(sandbox.wait_for_message(psid, "/spotify/login?t=")))
    bot.http.get(consent(sandbox, login.headers["location"], user))
    sandbox.wait_for_message(psid, f"You're connected, {first} {last}!")


def test_a_group_share_two_listen_then_status_and_cancel(bot: Bot, sandbox: Sandbox) -> None:
    for psid in PEOPLE:
        register(bot, sandbox, psid)
    sandbox.say(ALICE, 'create_group name:"Band"')
    sandbox.wait_for_message(ALICE, "Created the group Band.")
    for member in (BOB, CAROL, DAN):
        first, last, _ = PEOPLE[member]
        sandbox.say(ALICE, f'add_to_group group:"band" name: "{first} {last}"')
        sandbox.wait_for_message(ALICE, f"Added {first} {last} to Band")
        sandbox.wait_for_message(member, "Alice Liddell added you to their group Band")

    sandbox.say(ALICE, f'send_song group:"Band" post:"Told you" spotify:track:{TRACK}')
    sent = sandbox.wait_for_message(ALICE, "to Band:")
    assert sent.endswith("Bob Jones, Carol Chu, Dan Dare. I'll tell you who listened.")
    for member in (BOB, CAROL, DAN):
        assert sandbox.wait_for_message(member, "Alice Liddell:").endswith(TRACK)

    for member in (BOB, CAROL):
        sandbox.post("/_sandbox/spotify/play", user=PEOPLE[member][2], track_id=TRACK)
    sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=10)
    sandbox.wait_for_message(ALICE, "Carol Chu listened to", timeout=10)
    sandbox.wait_for_message(BOB, 'Alice Liddell says "Told you"')
    sandbox.wait_for_message(CAROL, 'Alice Liddell says "Told you"')

    sandbox.say(ALICE, "status")
    status = sandbox.wait_for_message(ALICE, "Your recent shares:")
    assert "→ Band, " in status and ": 2 of 3 listened, 1 pending" in status
    sandbox.say(DAN, "status")
    waiting = sandbox.wait_for_message(DAN, "Sent to you, not played yet:")
    assert "from Alice Liddell" in waiting

    sandbox.say(ALICE, "cancel")
    stopped = sandbox.wait_for_message(ALICE, "Stopped tracking")
    assert "to Band; I won't tell you whether they listen." in stopped
    sandbox.say(ALICE, "status")
    sandbox.wait_for_message(ALICE, ": 2 of 3 listened, 1 cancelled")
    assert not any("Dan Dare listened" in m for m in sandbox.messages(ALICE))
