// A person's sandbox Spotify: the catalog with Play buttons and what they played lately.
import { play, playsOf } from "./api.js";
import { ago, artistsOf, cover, duration, h } from "./dom.js";

const RECENT = 4;

export class SpotifyPanel {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    this.rows = new Map();
    this.element = this.build();
  }

  build() {
    const list = h(
      "ol",
      { class: "catalog" },
      this.world.tracks.map((track) => {
        const button = h(
          "button",
          {
            type: "button",
            class: "play",
            "aria-label": `Play ${track.name}`,
            onclick: () => this.play(track.id),
          },
          "▶",
        );
        const row = h(
          "li",
          { dataset: { track: track.id } },
          cover(track.id, "small"),
          h(
            "div",
            { class: "track-text" },
            h("div", { class: "track-name" }, track.name),
            h("div", { class: "track-artist" }, artistsOf(track)),
          ),
          h("span", { class: "track-time" }, duration(track.duration_ms)),
          button,
        );
        this.rows.set(track.id, row);
        return row;
      }),
    );
    this.recent = h("ul", { class: "recent" });
    return h(
      "section",
      { class: "spotify" },
      h(
        "div",
        { class: "spotify-head" },
        h("span", { class: "spotify-logo", "aria-hidden": "true" }),
        h("strong", {}, "Spotify"),
        h("span", { class: "spotify-user" }, `@${this.person.spotify_id} · sandbox`),
      ),
      list,
      h("div", { class: "recent-title" }, "Recently played"),
      this.recent,
    );
  }

  async play(trackId) {
    const row = this.rows.get(trackId);
    row?.classList.add("playing");
    try {
      const answer = await play(this.person.spotify_id, trackId);
      if (answer.recorded === false) throw new Error(answer.reason);
      setTimeout(() => row?.classList.remove("playing"), 1500);
    } catch (error) {
      row?.classList.remove("playing");
      alert(`Could not play: ${error.message}`);
    }
    await this.refresh();
  }

  reveal(trackId) {
    const row = this.rows.get(trackId);
    if (!row) return;
    row.scrollIntoView({ block: "nearest", behavior: "smooth" });
    row.classList.remove("spotlight");
    void row.offsetWidth; // restart the highlight animation
    row.classList.add("spotlight");
  }

  async refresh() {
    const { plays } = await playsOf(this.person.spotify_id);
    const items = plays.slice(0, RECENT).map((p) => {
      const track = this.world.trackById.get(p.track_id);
      return h(
        "li",
        {},
        cover(p.track_id, "tiny"),
        h("span", { class: "recent-name" }, track ? track.name : p.track_id),
        h("span", { class: "recent-when" }, ago(p.played_at)),
      );
    });
    if (!items.length) items.push(h("li", { class: "empty" }, "Nothing yet — press ▶ on a song."));
    this.recent.replaceChildren(...items);
  }
}
