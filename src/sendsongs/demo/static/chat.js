// One person's conversation with the bot, styled as their app (Messenger or Telegram):
// bubbles, buttons, a composer and a command row. The whole log lives on the demo
// server, so a reload or a second tab shows the same chat, typed messages included.
import { press, say } from "./api.js";
import { artistsOf, cover, h, trackIdIn } from "./dom.js";
import { openSpotifyLogin } from "./popup.js";
import { shareHelper } from "./share.js";

const LINK = /(https?:\/\/[^\s]+|spotify:track:[0-9A-Za-z]{22})/g;
const TYPING_FOR = 8000; // ms the bot may take before the dots give up
const NEAR_BOTTOM = 60; // px from the end that still counts as "following"
const COMMANDS = ["status", "groups", "help"]; // always at hand once connected

const LOOKS = {
  messenger: { app: "Messenger", placeholder: "Aa", send: "➤" },
  telegram: { app: "Telegram", placeholder: "Message", send: "➤" },
};

export class Chat {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    this.look = LOOKS[person.channel];
    this.telegram = person.channel === "telegram";
    this.entries = [];
    this.failed = new Map(); // entry index -> why it did not reach the bot
    this.typingUntil = 0;
    this.registered = false;
    this.unread = 0;
    this.waiters = [];
    this.element = this.build();
    this.render();
  }

  build() {
    this.list = h("div", { class: "messages", role: "log", "aria-live": "polite" });
    this.list.addEventListener("scroll", () => {
      if (this.atBottom()) this.markRead();
    });
    this.unreadMarker = h(
      "button",
      { type: "button", class: "unread", hidden: true, onclick: () => this.scrollToEnd() },
      "",
    );
    this.quick = h("div", { class: "quick-replies" });
    this.commands = h("div", { class: "commands", "aria-label": "Commands" });
    this.input = h("input", {
      class: "composer-input",
      type: "text",
      placeholder: this.look.placeholder,
      autocomplete: "off",
      "aria-label": `Message as ${this.person.first_name}`,
    });
    this.helper = shareHelper(this.person, this.world, (text) => this.send(text));
    const toggle = h(
      "button",
      {
        type: "button",
        class: "composer-share",
        title: "Share a song",
        "aria-label": "Share a song",
        onclick: () => {
          this.helper.hidden = !this.helper.hidden;
          if (!this.helper.hidden) this.helper.dispatchEvent(new Event("open"));
        },
      },
      "♫",
    );
    const composer = h(
      "form",
      { class: "composer" },
      toggle,
      this.input,
      h("button", { type: "submit", class: "composer-send", "aria-label": "Send" }, this.look.send),
    );
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.send(text);
    });
    const head = h(
      "div",
      { class: "chat-head" },
      h("span", { class: "bot-avatar", "aria-hidden": "true" }, "♫"),
      h(
        "div",
        {},
        h("div", { class: "chat-name" }, "Send Songs"),
        h("div", { class: "chat-sub" }, this.telegram ? "bot · @SendSongsSandboxBot" : "Messenger · sandbox page"),
      ),
      h("span", { class: "chat-app" }, this.look.app),
    );
    const body = h("div", { class: "messages-wrap" }, this.list, this.unreadMarker);
    return h(
      "section",
      { class: `chat ${this.person.channel}` },
      head,
      body,
      this.quick,
      this.helper,
      composer,
      this.commands,
    );
  }

  prefill(text) {
    this.input.value = text;
    this.input.focus();
    this.input.setSelectionRange(text.length, text.length);
  }

  setRegistered(registered) {
    if (registered === this.registered) return;
    this.registered = registered;
    this.renderButtons();
  }

  // New log entries for this person, from the demo server, in order.
  add(entries) {
    if (!entries.length) return;
    const known = new Set(this.entries.map((e) => e.index));
    const fresh = entries.filter((e) => !known.has(e.index));
    if (!fresh.length) return;
    this.entries.push(...fresh);
    this.entries.sort((a, b) => a.index - b.index);
    const following = this.atBottom() || !this.rendered;
    if (fresh.some((e) => e.from === "bot")) {
      this.typingUntil = 0;
      this.waiters.splice(0).forEach((resolve) => resolve());
    }
    if (!following) this.unread += fresh.filter((e) => e.from === "bot").length;
    this.render(following);
  }

  // Type `text` as this person; resolves once the bot answered (or gave up waiting).
  async send(text) {
    this.typingUntil = Date.now() + TYPING_FOR;
    this.render(true);
    const answered = new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, TYPING_FOR);
    });
    setTimeout(() => this.render(), TYPING_FOR + 50);
    try {
      const answer = await say(this.person.key, text);
      this.accept(answer);
    } catch (error) {
      this.failLocally(text, error);
    }
    return answered;
  }

  async pressButton(button, messageId) {
    if (button.url) {
      this.openLink(button.url);
      return;
    }
    this.typingUntil = Date.now() + TYPING_FOR;
    this.render(true);
    try {
      const answer = await press(this.person.key, button, messageId);
      if (answer.entry) this.accept(answer);
      else if (answer.error) this.failLocally(button.title, new Error(answer.error));
    } catch (error) {
      this.failLocally(button.title, error);
    }
  }

  accept(answer) {
    const entry = answer.entry;
    if (!answer.delivered) {
      this.failed.set(entry.index, entry.error);
      this.typingUntil = 0;
    }
    this.add([entry]);
    this.render(true);
  }

  failLocally(text, error) {
    this.typingUntil = 0;
    this.add([{ index: (this.entries.at(-1)?.index ?? 0) + 0.5, from: "person", text, at: Date.now() / 1000, buttons: [], error: `not delivered (${error.message})` }]);
  }

  atBottom() {
    const list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.markRead();
  }

  markRead() {
    this.unread = 0;
    this.unreadMarker.hidden = true;
  }

  // Follows new messages unless the reader scrolled up; then counts them as unread.
  render(follow = false) {
    const entries = this.entries;
    const rows = entries.map((entry, i) => this.row(entry, entries[i - 1], entries[i + 1]));
    if (!entries.length) rows.push(this.welcome());
    if (Date.now() < this.typingUntil) rows.push(h("div", { class: "row bot" }, typingDots()));
    const top = this.list.scrollTop;
    this.list.replaceChildren(...rows);
    this.renderButtons();
    if (follow) this.scrollToEnd();
    else this.list.scrollTop = top;
    this.rendered = this.rendered || entries.length > 0;
    this.unreadMarker.hidden = this.unread === 0;
    this.unreadMarker.textContent = `${this.unread} new message${this.unread === 1 ? "" : "s"} ↓`;
  }

  welcome() {
    const how = this.person.history === "listenbrainz"
      ? `Your plays are on ListenBrainz as "${this.person.account}".`
      : "Connect your Spotify to start.";
    const first = this.telegram ? "Press START to talk to the bot." : `Say ${this.person.register} to connect.`;
    return h(
      "div",
      { class: "welcome" },
      h("span", { class: "bot-avatar big", "aria-hidden": "true" }, "♫"),
      h("strong", {}, "Send Songs"),
      h("p", {}, `You are ${this.person.name}. ${how} ${first}`),
    );
  }

  row(entry, previous, next) {
    const grouped = (other) => other && other.from === entry.from;
    const classes = ["bubble", grouped(previous) ? "cont" : "", grouped(next) ? "more" : ""];
    const when = new Date(entry.at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
    const bubble = h(
      "div",
      { class: classes.join(" "), title: when },
      this.linkify(entry.text),
      this.telegram ? h("span", { class: "time" }, when) : null,
    );
    const parts = [bubble];
    const error = this.failed.get(entry.index) || entry.error;
    if (error) parts.push(h("div", { class: "failed" }, error));
    const card = entry.from === "bot" ? this.trackCard(entry.text) : null;
    if (card) parts.push(card);
    if (this.telegram && entry.buttons.length) parts.push(this.keyboard(entry));
    const side = entry.from === "bot" ? "bot" : "me";
    return h("div", { class: `row ${side}`, dataset: { index: entry.index } }, h("div", { class: "stack" }, parts));
  }

  // Telegram keeps a message's inline keyboard under it, pressable later too.
  keyboard(entry) {
    return h(
      "div",
      { class: "inline-keyboard" },
      entry.buttons.map((button) =>
        h(
          "button",
          { type: "button", class: "inline-button", onclick: () => this.pressButton(button, entry.message_id) },
          button.title,
        ),
      ),
    );
  }

  linkify(text) {
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      const url = match[0].replace(/[.,;!?)]+$/, "");
      nodes.push(text.slice(last, match.index));
      nodes.push(this.link(url));
      last = match.index + url.length;
    }
    nodes.push(text.slice(last));
    return nodes;
  }

  link(url) {
    const a = h("a", { href: url, target: "_blank", rel: "noopener", title: url }, shorten(url));
    const trackId = trackIdIn(url);
    if (url.includes("/spotify/login")) a.classList.add("login-link");
    if (url.includes("/spotify/login") || (trackId && this.world.trackById.has(trackId))) {
      a.addEventListener("click", (event) => {
        event.preventDefault();
        this.openLink(url);
      });
    }
    return a;
  }

  openLink(url) {
    const trackId = trackIdIn(url);
    if (url.includes("/spotify/login")) openSpotifyLogin(url, this.person);
    // the sandbox's tracks exist only here, so show them in this person's player
    else if (trackId && this.world.trackById.has(trackId)) this.world.reveal(this.person, trackId);
    else window.open(url, "_blank", "noopener");
  }

  // A friend's share ends with the song's link, like a link preview.
  trackCard(text) {
    if (text.includes("send_song")) return null; // the help and welcome texts' example
    const trackId = trackIdIn(text.trim().split(/\s+/).pop() || "");
    const track = trackId && this.world.trackById.get(trackId);
    if (!track) return null;
    return h(
      "div",
      { class: "track-card" },
      cover(track.id, "small"),
      h(
        "div",
        { class: "track-card-text" },
        h("div", { class: "track-card-name" }, track.name),
        h("div", { class: "track-card-artist" }, artistsOf(track)),
      ),
      h(
        "button",
        {
          type: "button",
          class: "play big",
          "aria-label": `Play ${track.name}`,
          title: `Play it as ${this.person.first_name}`,
          onclick: () => this.world.playAs(this.person, track.id),
        },
        "▶",
      ),
    );
  }

  renderButtons() {
    const last = this.entries[this.entries.length - 1];
    let buttons = [];
    if (!this.telegram && last && last.from === "bot" && last.buttons.length) {
      buttons = last.buttons.map((b) => this.chip(b.title, () => this.pressButton(b)));
    } else if (this.telegram && !this.entries.length) {
      buttons = [h("button", { type: "button", class: "start-bar", onclick: () => this.send("/start") }, "START")];
    } else if (!this.registered && !this.entries.some((e) => e.from === "person" && e.text === this.person.register)) {
      buttons = [this.person.register, this.telegram ? "/help" : "help"].map((word) => this.chip(word, () => this.send(word)));
    }
    this.quick.replaceChildren(...buttons);
    const commands = this.registered
      ? [h("span", { class: "commands-label" }, "Try"), ...COMMANDS.map((word) => this.chip(this.telegram ? `/${word}` : word, () => this.send(this.telegram ? `/${word}` : word), "command"))]
      : [];
    this.commands.replaceChildren(...commands);
  }

  chip(title, onclick, kind = "quick") {
    return h("button", { type: "button", class: kind, onclick }, title);
  }
}

// Long links (the sign-in link carries a token) read better cut, as the apps do.
function shorten(url) {
  const bare = url.replace(/^https?:\/\//, "");
  return bare.length > 56 ? `${bare.slice(0, 40)}…` : bare;
}

function typingDots() {
  return h("div", { class: "bubble typing", "aria-label": "Send Songs is typing" }, h("i"), h("i"), h("i"));
}
