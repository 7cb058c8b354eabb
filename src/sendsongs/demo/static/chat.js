// One person's Messenger conversation with the bot: bubbles, quick replies, composer.
import { say } from "./api.js";
import { artistsOf, cover, h, trackIdIn } from "./dom.js";
import { openSpotifyLogin } from "./popup.js";
import { shareHelper } from "./share.js";

const LINK = /(https?:\/\/[^\s]+|spotify:track:[0-9A-Za-z]{22})/g;
const TYPING_FOR = 8000; // ms the bot may take before the dots give up
const STARTERS = ["register", "help"];

export class Chat {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    // what this person typed: the sandbox logs only what the bot sent
    this.storageKey = `sendsongs-demo:${world.run}:${person.psid}`;
    this.mine = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
    this.bot = [];
    this.typingUntil = 0;
    this.registered = false;
    this.element = this.build();
    this.render();
  }

  build() {
    this.list = h("div", { class: "messages", role: "log", "aria-live": "polite" });
    this.quick = h("div", { class: "quick-replies" });
    this.input = h("input", {
      class: "composer-input",
      type: "text",
      placeholder: "Aa",
      autocomplete: "off",
      "aria-label": `Message as ${this.person.first_name}`,
    });
    this.helper = shareHelper(this.person, this.world, (text) => this.prefill(text));
    const toggle = h(
      "button",
      {
        type: "button",
        class: "composer-share",
        title: "Share a song",
        "aria-label": "Share a song",
        onclick: () => {
          this.helper.hidden = !this.helper.hidden;
          this.list.scrollTop = this.list.scrollHeight; // keep the latest message in view
        },
      },
      "♫",
    );
    const composer = h(
      "form",
      { class: "composer" },
      toggle,
      this.input,
      h("button", { type: "submit", class: "composer-send", "aria-label": "Send" }, "➤"),
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
        h("div", { class: "chat-sub" }, "Messenger · sandbox page"),
      ),
    );
    return h("section", { class: "chat" }, head, this.list, this.quick, this.helper, composer);
  }

  prefill(text) {
    this.input.value = text;
    this.input.focus();
    this.input.setSelectionRange(text.length, text.length);
  }

  setRegistered(registered) {
    if (registered === this.registered) return;
    this.registered = registered;
    this.renderQuickReplies(this.entries());
  }

  addBotMessages(messages) {
    if (!messages.length) return;
    this.bot.push(...messages);
    this.typingUntil = 0;
    this.render();
  }

  async send(text, payload) {
    const entry = { text, at: Date.now() };
    this.mine.push(entry);
    this.typingUntil = Date.now() + TYPING_FOR;
    this.save();
    this.render(true);
    setTimeout(() => this.render(), TYPING_FOR + 50);
    try {
      const answer = await say(this.person.psid, text, payload);
      if (answer.webhook_status !== 200) entry.error = `not delivered (webhook: ${answer.webhook_status ?? answer.webhook_error})`;
    } catch (error) {
      entry.error = `not delivered (${error.message})`;
    }
    if (entry.error) {
      this.typingUntil = 0;
      this.save();
      this.render();
    }
  }

  save() {
    sessionStorage.setItem(this.storageKey, JSON.stringify(this.mine));
  }

  entries() {
    const mine = this.mine.map((m) => ({ from: "me", text: m.text, at: m.at, error: m.error }));
    const bot = this.bot.map((m) => ({
      from: "bot",
      text: m.text,
      at: Date.parse(m.sent_at),
      quick: (m.quick_replies || []).filter((q) => q.content_type === "text"),
    }));
    // one clock on one machine: the page's and the sandbox's times interleave correctly
    return [...mine, ...bot].sort((a, b) => a.at - b.at || (a.from === "me" ? -1 : 1));
  }

  // Follows new messages unless the reader scrolled up to read older ones.
  render(forceScroll = false) {
    const list = this.list;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    const entries = this.entries();
    const rows = entries.map((entry, i) => this.row(entry, entries[i - 1], entries[i + 1]));
    if (!entries.length) rows.push(this.welcome());
    if (Date.now() < this.typingUntil) rows.push(h("div", { class: "row bot" }, typingDots()));
    list.replaceChildren(...rows);
    this.renderQuickReplies(entries);
    if (forceScroll || nearBottom || !this.rendered) list.scrollTop = list.scrollHeight;
    this.rendered = true;
  }

  welcome() {
    return h(
      "div",
      { class: "welcome" },
      h("span", { class: "bot-avatar big", "aria-hidden": "true" }, "♫"),
      h("strong", {}, "Send Songs"),
      h("p", {}, `You are ${this.person.name}. Say register to connect Spotify.`),
    );
  }

  row(entry, previous, next) {
    const grouped = (other) => other && other.from === entry.from;
    const classes = ["bubble", grouped(previous) ? "cont" : "", grouped(next) ? "more" : ""];
    const bubble = h(
      "div",
      { class: classes.join(" "), title: new Date(entry.at).toLocaleTimeString() },
      this.linkify(entry.text),
    );
    const parts = [bubble];
    if (entry.error) parts.push(h("div", { class: "failed" }, entry.error));
    const card = entry.from === "bot" ? this.trackCard(entry.text) : null;
    if (card) parts.push(card);
    return h("div", { class: `row ${entry.from}` }, h("div", { class: "stack" }, parts));
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
    if (url.includes("/spotify/login")) {
      a.classList.add("login-link");
      a.addEventListener("click", (event) => {
        event.preventDefault();
        openSpotifyLogin(url, this.person);
      });
    } else if (trackId && this.world.trackById.has(trackId)) {
      // the sandbox's tracks exist only here, so show them in this person's Spotify
      a.addEventListener("click", (event) => {
        event.preventDefault();
        this.world.reveal(this.person, trackId);
      });
    }
    return a;
  }

  // A friend's share ends with the song's link, like Messenger's link preview.
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
          title: `Play it on ${this.person.first_name}'s Spotify`,
          onclick: () => this.world.playAs(this.person, track.id),
        },
        "▶",
      ),
    );
  }

  renderQuickReplies(entries) {
    const last = entries[entries.length - 1];
    let buttons = [];
    if (last && last.from === "bot" && last.quick.length) {
      buttons = last.quick.map((q) =>
        h("button", { type: "button", class: "quick", onclick: () => this.send(q.title, q.payload) }, q.title),
      );
    } else if (!entries.length || (!this.registered && !this.mine.length)) {
      buttons = STARTERS.map((word) =>
        h("button", { type: "button", class: "quick", onclick: () => this.send(word) }, word),
      );
    }
    this.quick.replaceChildren(...buttons);
  }
}

// Long links (the sign-in link carries a token) read better cut, as Messenger does.
function shorten(url) {
  const bare = url.replace(/^https?:\/\//, "");
  return bare.length > 56 ? `${bare.slice(0, 40)}…` : bare;
}

function typingDots() {
  return h("div", { class: "bubble typing", "aria-label": "Send Songs is typing" }, h("i"), h("i"), h("i"));
}
