// One demo person's column: who they are, their chat, their Spotify, their shares.
import { Chat } from "./chat.js";
import { h } from "./dom.js";
import { openSpotifyLogin } from "./popup.js";
import { SpotifyPanel } from "./spotify.js";
import { Timeline } from "./timeline.js";

export class PersonPane {
  constructor(person, world) {
    this.person = person;
    this.chat = new Chat(person, world);
    this.spotify = new SpotifyPanel(person, world);
    this.timeline = new Timeline(person, world);
    this.status = h("span", { class: "status-chip" }, "Not connected");
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
    // the web sign-up is only for people not connected yet, so it sits with their status
    this.signUp = h("span", { class: "signup" }, " · ", webSignUp);
    const head = h(
      "header",
      { class: "person-head" },
      h("span", { class: "avatar", style: `background:${person.color}`, "aria-hidden": "true" }, person.first_name[0]),
      h(
        "div",
        { class: "person-id" },
        h("div", { class: "person-name" }, person.name),
        h("div", { class: "standing" }, this.status, this.signUp),
      ),
    );
    this.element = h(
      "article",
      { class: "person", dataset: { person: person.spotify_id, psid: person.psid } },
      head,
      this.chat.element,
      this.spotify.element,
      this.timeline.element,
    );
  }

  showStanding(info) {
    const [text, state] = info.needs_reconnect
      ? ["Reconnect Spotify", "warn"]
      : info.registered
        ? ["Spotify connected", "ok"]
        : ["Not connected", ""];
    this.status.textContent = text;
    this.status.className = `status-chip ${state}`;
    this.signUp.hidden = info.registered && !info.needs_reconnect;
    this.chat.setRegistered(info.registered);
  }
}
