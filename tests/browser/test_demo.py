"""`sendsongs demo` in a real Chromium: two people connect through the Spotify consent
page, one shares a song, the other plays it, and the sender's chat hears back."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.demo.launch import Demo, running_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Never the tracked docs/screenshot.png: refresh that one deliberately, with
# SENDSONGS_SCREENSHOT=docs/screenshot.png make browser-test.
SCREENSHOT = Path(
    os.environ.get("SENDSONGS_SCREENSHOT", tempfile.gettempdir() + "/sendsongs-demo.png")
)
TRACK = "46X0dXeliHXD73sxexJx7d"  # Paper Lanterns by The Velvet Orchards

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"
    ),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.goto(demo.url)
    yield opened
    context.close()


def pane(page: Page, spotify_id: str) -> Locator:
    return page.locator(f'[data-person="{spotify_id}"]')


def allow_on_spotify(popup: Page, spotify_id: str) -> None:
    """Be the person on the sandbox's consent page: the demo picked their account."""
    expect(popup.locator("#title")).to_have_text(
        "Allow Send Songs to see your recently played tracks?"
    )
    expect(popup.locator("#demo-picked")).to_be_visible()
    expect(popup.locator("select#user")).to_have_value(spotify_id)
    popup.locator("#allow").click()


def register_in_chat(page: Page, spotify_id: str, name: str) -> None:
    person = pane(page, spotify_id)
    person.get_by_role("button", name="register", exact=True).click()
    link = person.locator("a.login-link").last
    expect(link).to_be_visible()
    with page.expect_popup() as opened:
        link.click()
    popup = opened.value
    allow_on_spotify(popup, spotify_id)
    expect(popup.locator("h1")).to_contain_text("You're connected")
    popup.close()
    expect(person.locator(".messages")).to_contain_text(f"You're connected, {name}!")
    expect(person.locator(".status-chip")).to_have_text("Spotify connected")


def test_share_play_and_the_sender_hears_back(page: Page) -> None:
    alice, bob = pane(page, "alice"), pane(page, "bob")
    expect(page.locator("article.person")).to_have_count(4)
    register_in_chat(page, "alice", "Alice Liddell")
    register_in_chat(page, "bob", "Bob Jones")

    alice.get_by_role("button", name="Share a song").click()
    alice.locator(".share-friend").select_option("Bob Jones")
    alice.locator(".share-track").select_option(TRACK)
    alice.locator(".share-pre").fill("You need this")
    alice.locator(".share-post").fill("Told you!")
    alice.get_by_role("button", name="Write the message").click()
    expect(alice.locator(".composer-input")).to_have_value(
        f'send_song name:"Bob Jones" pre:"You need this" post:"Told you!" '
        f"https://open.spotify.com/track/{TRACK}"
    )
    alice.get_by_role("button", name="Send", exact=True).click()
    expect(bob.locator(".messages")).to_contain_text("Alice Liddell: You need this")
    expect(bob.locator(".track-card")).to_contain_text("Paper Lanterns")
    expect(alice.locator(".messages")).to_contain_text("Sent Paper Lanterns")
    expect(alice.locator('.share[data-status="pending"]')).to_have_count(1)

    started = time.monotonic()
    bob.locator(f'.catalog li[data-track="{TRACK}"] .play').click()
    expect(alice.locator(".messages")).to_contain_text(
        "Bob Jones listened to Paper Lanterns", timeout=20_000
    )
    print(f"\nPlay to 'listened' in the sender's pane: {time.monotonic() - started:.1f} s")
    expect(alice.locator('.share[data-status="listened"]')).to_have_count(1)
    expect(bob.locator(".messages")).to_contain_text('Alice Liddell says "Told you!"')
    expect(bob.locator(".recent")).to_contain_text("Paper Lanterns")

    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_sign_up_on_the_web_with_a_code(page: Page) -> None:
    carol = pane(page, "carol")
    with page.expect_popup() as opened:
        carol.get_by_role("link", name="sign up on the web").click()
    popup = opened.value
    allow_on_spotify(popup, "carol")
    expect(popup.locator("#command")).to_contain_text('register code:"')
    # the page copies the code into Carol's composer, with her name filled in
    composer = carol.locator(".composer-input")
    expect(composer).to_have_value(re.compile(r'^register code:"[^"]+" name:"Carol Danvers"$'))
    popup.close()
    carol.get_by_role("button", name="Send", exact=True).click()
    expect(carol.locator(".messages")).to_contain_text("You're connected, Carol Danvers!")
