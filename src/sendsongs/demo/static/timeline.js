// The songs a person shared, each from sent to delivered to listened (or expired).
import { clock, cover, h } from "./dom.js";

const STATUS = { pending: "Waiting", listened: "Listened", expired: "Expired" };

export class Timeline {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    this.list = h("ol", { class: "shares" });
    this.element = h(
      "section",
      { class: "timeline" },
      h("div", { class: "section-title" }, "Songs shared"),
      this.list,
    );
    this.update([]);
  }

  update(shares) {
    const key = JSON.stringify(shares);
    if (key === this.shown) return; // keep the DOM still while nothing changes
    this.shown = key;
    if (!shares.length) {
      this.list.replaceChildren(h("li", { class: "empty" }, "Nothing shared yet. Tap ♫ in the chat to send a song."));
      return;
    }
    this.list.replaceChildren(...shares.map((share) => this.item(share)));
  }

  item(share) {
    const last =
      share.status === "pending"
        ? step("waiting", "Listened?", "checking…")
        : step(share.status, STATUS[share.status], clock(share.settled_at));
    return h(
      "li",
      { class: `share ${share.status}`, dataset: { status: share.status } },
      h(
        "div",
        { class: "share-top" },
        cover(share.track.uri.split(":").pop(), "small"),
        h(
          "div",
          { class: "share-text" },
          h("div", { class: "share-track" }, share.track.name),
          h("div", { class: "share-to" }, `to ${share.recipient.name}`),
        ),
        h("span", { class: `status ${share.status}` }, STATUS[share.status]),
      ),
      h(
        "div",
        { class: "steps" },
        step("done", "Sent", clock(share.shared_at)),
        share.delivered_at ? step("done", "Delivered", clock(share.delivered_at)) : step("waiting", "Delivered", ""),
        last,
      ),
    );
  }
}

function step(state, label, when) {
  return h("div", { class: `step ${state}` }, h("i"), h("b", {}, label), h("small", {}, when));
}
