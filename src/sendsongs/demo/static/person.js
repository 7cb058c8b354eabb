// One demo person's column: who they are, their chat, their music app, what was sent
// to them, what they shared, their groups.
import { Chat } from "./chat.js";
import { h } from "./dom.js";
import { ListenBrainzPanel, SpotifyPanel } from "./player.js";
import { openSpotifyLogin } from "./popup.js";
import { Groups, Timeline } from "./timeline.js";

const SOURCES = { spotify: "Spotify", listenbrainz: "ListenBrainz", lastfm: "Last.fm" };

export class PersonPane {
  constructor(person, world) {
    this.person = person;
    this.chat = new Chat(person, world);
    this.player = person.history === "listenbrainz" ? new ListenBrainzPanel(person, world) : new SpotifyPanel(person, world);
    this.timeline = new Timeline(person, world);
    this.groups = new Groups(person, world, this.chat);
    this.status = h("span", { class: "status-chip" }, "Not connected");
    this.signUp = h("span", { class: "signup" });
    if (person.history === "spotify" && person.channel === "messenger") {
      // the page flow: Spotify first, then a code to send in the chat
      const webSignUp = h(
        "a",
        {
          href: "/spotify/login",
          class: "web-signup",
          title: "The page flow: Spotify first, then a code to send in the chat",
          onclick: (event) => {
            event.preventDefault();
            openSpotifyLogin("/spotify/login", person, {
              onCode: (command) => this.chat.prefill(command.replace('name:"Your Name"', `name:"${person.name}"`)),
            });
          },
        },
        "sign up on the web",
      );
      this.signUp.append(" · ", webSignUp);
    }
    const app = person.channel === "telegram" ? "on Telegram" : "on Messenger";
    const head = h(
      "header",
      { class: "person-head" },
      h("span", { class: "avatar", style: `background:${person.color}`, "aria-hidden": "true" }, person.first_name[0]),
      h(
        "div",
        { class: "person-id" },
        h("div", { class: "person-name" }, person.name, h("span", { class: `channel-badge ${person.channel}` }, app)),
        h("div", { class: "standing" }, this.status, this.signUp),
      ),
    );
    this.element = h(
      "article",
      { class: `person ${person.channel}`, dataset: { person: person.key } },
      head,
      this.chat.element,
      this.timeline.receivedBox,
      this.player.element,
      this.timeline.element,
      this.groups.element,
    );
  }

  showStanding(info) {
    const source = SOURCES[info.source || this.person.history];
    const [text, state] = info.needs_reconnect
      ? [`Reconnect ${source}`, "warn"]
      : info.registered
        ? [`${source} connected`, "ok"]
        : ["Not connected", ""];
    this.status.textContent = text;
    this.status.className = `status-chip ${state}`;
    this.element.dataset.standing = state || "none"; // known from the server now
    this.signUp.hidden = info.registered && !info.needs_reconnect;
    this.chat.setRegistered(info.registered);
    this.groups.element.hidden = !info.registered; // groups are for connected people
  }

  showShares(answer) {
    this.timeline.update(answer);
    this.groups.update(answer.groups);
  }
}
