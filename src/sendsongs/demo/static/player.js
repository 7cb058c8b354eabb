// A person's music app, in which they play songs: a catalog of the sandbox's tracks
// (each with Play and Copy link) and what they played lately. SpotifyPanel plays on
// the sandbox's Spotify; ListenBrainzPanel adds listens as a scrobbler would.
import { listen, listensOf, play, playsOf } from "./api.js";
import { ago, artistsOf, copyText, cover, duration, h, releaseOf } from "./dom.js";

const RECENT = 4;
const LINK_ICON =
  '<svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M10 14a4.5 4.5 0 0 0 6.4 0l3-3a4.5 4.5 0 0 0-6.4-6.4l-1.2 1.2M14 10a4.5 4.5 0 0 0-6.4 0l-3 3a4.5 4.5 0 0 0 6.4 6.4l1.2-1.2"/></svg>';

class Player {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    this.rows = new Map();
  }

  catalog() {
    return h(
      "ol",
      { class: "catalog" },
      this.world.tracks.map((track) => {
        const row = h(
          "li",
          { dataset: { track: track.id } },
          cover(track.id, "small"),
          h(
            "div",
            { class: "track-text" },
            h("div", { class: "track-name" }, track.name),
            h("div", { class: "track-artist" }, `${artistsOf(track)} · ${releaseOf(track)}`),
          ),
          h("span", { class: "track-time" }, duration(track.duration_ms)),
          this.copyButton(track),
          h(
            "button",
            { type: "button", class: "play", "aria-label": `Play ${track.name}`, onclick: () => this.play(track.id) },
            "▶",
          ),
        );
        this.rows.set(track.id, row);
        return row;
      }),
    );
  }

  copyButton(track) {
    const button = h("button", {
      type: "button",
      class: "copy-link",
      title: "Share → Copy Song Link",
      "aria-label": `Copy link to ${track.name}`,
    });
    button.innerHTML = LINK_ICON; // a constant icon, never message text
    button.addEventListener("click", async () => {
      const copied = await copyText(track.external_urls?.spotify || `https://open.spotify.com/track/${track.id}`);
      this.world.toast(copied ? `Copied the link to ${track.name}: paste it in a chat.` : "Could not copy the link.");
    });
    return button;
  }

  async play(trackId) {
    const row = this.rows.get(trackId);
    row?.classList.add("playing");
    try {
      await this.record(this.world.trackById.get(trackId));
      setTimeout(() => row?.classList.remove("playing"), 1500);
    } catch (error) {
      row?.classList.remove("playing");
      this.world.toast(`Could not play: ${error.message}`);
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

  showRecent(items) {
    const rows = items.slice(0, RECENT).map(({ trackId, name, at }) =>
      h("li", {}, cover(trackId || name, "tiny"), h("span", { class: "recent-name" }, name), h("span", { class: "recent-when" }, ago(at))),
    );
    if (!rows.length) rows.push(h("li", { class: "empty" }, "Nothing yet — press ▶ on a song."));
    this.recent.replaceChildren(...rows);
  }
}

export class SpotifyPanel extends Player {
  constructor(person, world) {
    super(person, world);
    this.recent = h("ul", { class: "recent" });
    this.element = h(
      "section",
      { class: "player spotify" },
      h(
        "div",
        { class: "player-head" },
        h("span", { class: "spotify-logo", "aria-hidden": "true" }),
        h("strong", {}, "Spotify"),
        h("span", { class: "player-user" }, `@${person.account} · sandbox`),
      ),
      this.catalog(),
      h("div", { class: "recent-title" }, "Recently played"),
      this.recent,
    );
  }

  async record(track) {
    const answer = await play(this.person.account, track.id);
    if (answer.recorded === false) throw new Error(answer.reason);
  }

  async refresh() {
    const { plays } = await playsOf(this.person.account);
    this.showRecent(
      plays.map((p) => ({ trackId: p.track_id, name: this.world.trackById.get(p.track_id)?.name || p.track_id, at: p.played_at })),
    );
  }
}

// ListenBrainz records what a scrobbler reports. With "a slightly different title" the
// listen carries no Spotify id or ISRC and a title like "Song (Remastered 2011)": the
// bot can only match it by artist and title, as for a listen from Apple Music.
export class ListenBrainzPanel extends Player {
  constructor(person, world) {
    super(person, world);
    this.recent = h("ul", { class: "recent" });
    this.retitle = h("input", { type: "checkbox", class: "retitle", id: `retitle-${person.key}` });
    this.element = h(
      "section",
      { class: "player listenbrainz" },
      h(
        "div",
        { class: "player-head" },
        h("span", { class: "lb-logo", "aria-hidden": "true" }),
        h("strong", {}, "ListenBrainz"),
        h("span", { class: "player-user" }, `${person.account} · sandbox`),
      ),
      h(
        "label",
        { class: "retitle-option", for: this.retitle.id },
        this.retitle,
        h("span", {}, "Play with a slightly different title ", h("small", {}, "(no Spotify id: matched by artist and title)")),
      ),
      this.catalog(),
      h("div", { class: "recent-title" }, "Recent listens"),
      this.recent,
    );
  }

  async record(track) {
    await listen(this.person.account, track, { retitled: this.retitle.checked });
  }

  async refresh() {
    const { listens } = await listensOf(this.person.account);
    const visible = listens.filter((l) => l.visible).sort((a, b) => b.listened_at - a.listened_at);
    this.showRecent(
      visible.map((l) => ({
        trackId: l.spotify_id ? l.spotify_id.split("/").pop() : this.world.tracks.find((t) => l.title.startsWith(t.name))?.id,
        name: l.title,
        at: new Date(l.listened_at * 1000).toISOString(),
      })),
    );
  }
}
