// Beside each chat: songs sent to the person and not played yet, the songs they sent
// (newest few; a group send is one item, "2 of 3 listened"), and their groups.
import { clock, cover, h } from "./dom.js";

const STATUS = { pending: "Waiting", listened: "Listened", expired: "Expired", cancelled: "Cancelled" };
const SHOWN = 3; // sends shown before "Show older"

export class Timeline {
  constructor(person, world) {
    this.person = person;
    this.world = world;
    this.showAll = false;
    this.received = h("ol", { class: "received" });
    this.receivedBox = h(
      "section",
      { class: "inbox", hidden: true },
      h("div", { class: "section-title" }, "Sent to you, not played yet"),
      this.received,
    );
    this.list = h("ol", { class: "shares" });
    this.more = h("button", { type: "button", class: "show-older", hidden: true, onclick: () => this.toggle() });
    this.element = h(
      "section",
      { class: "timeline" },
      h("div", { class: "section-title" }, "Songs you shared"),
      this.list,
      this.more,
    );
    this.update({ sent: [], received: [] });
  }

  toggle() {
    this.showAll = !this.showAll;
    this.shown = null;
    this.update(this.last);
  }

  update(answer) {
    this.last = answer;
    const key = JSON.stringify([answer.sent, answer.received, this.showAll]);
    if (key === this.shown) return; // keep the DOM still while nothing changes
    this.shown = key;
    this.receivedBox.hidden = !answer.received.length;
    this.received.replaceChildren(...answer.received.map((share) => this.incoming(share)));
    const sent = answer.sent;
    if (!sent.length) {
      this.list.replaceChildren(h("li", { class: "empty" }, "Nothing shared yet. Tap ♫ in the chat to send a song."));
    } else {
      const shown = this.showAll ? sent : sent.slice(0, SHOWN);
      this.list.replaceChildren(...shown.map((send) => this.item(send)));
    }
    const older = sent.length - SHOWN;
    this.more.hidden = older <= 0;
    this.more.textContent = this.showAll ? "Show fewer" : `Show ${older} older`;
  }

  incoming(share) {
    const from = share.group ? `from ${share.from.name}, to ${share.group}` : `from ${share.from.name}`;
    return h(
      "li",
      { class: "incoming", dataset: { track: share.track.id } },
      cover(share.track.id, "small"),
      h(
        "div",
        { class: "share-text" },
        h("div", { class: "share-track" }, share.track.name),
        h("div", { class: "share-to" }, share.pre ? `${from}: “${share.pre}”` : from),
      ),
      h(
        "button",
        { type: "button", class: "play", "aria-label": `Play ${share.track.name}`, onclick: () => this.world.playAs(this.person, share.track.id) },
        "▶",
      ),
    );
  }

  item(send) {
    const group = send.group !== null;
    const to = group ? `to ${send.group} · ${send.listened} of ${send.recipients.length} listened` : `to ${send.recipients[0].name}`;
    const steps = group
      ? send.recipients.map((r) => step(r.status === "listened" ? "listened" : r.status === "pending" ? "waiting" : r.status, r.name, STATUS[r.status]))
      : this.steps(send.recipients[0], send);
    return h(
      "li",
      { class: `share ${send.status}${group ? " group" : ""}`, dataset: { status: send.status } },
      h(
        "div",
        { class: "share-top" },
        cover(send.track.id, "small"),
        h("div", { class: "share-text" }, h("div", { class: "share-track" }, send.track.name), h("div", { class: "share-to" }, to)),
        h("span", { class: `status ${send.status}` }, STATUS[send.status]),
      ),
      h("div", { class: `steps${group ? " members" : ""}` }, steps),
    );
  }

  steps(recipient, send) {
    const last =
      recipient.status === "pending"
        ? step("waiting", "Listened?", "checking…")
        : step(recipient.status, STATUS[recipient.status], clock(recipient.settled_at));
    return [
      step("done", "Sent", clock(send.shared_at)),
      recipient.delivered_at ? step("done", "Delivered", clock(recipient.delivered_at)) : step("waiting", "Delivered", ""),
      last,
    ];
  }
}

// The person's groups, and a form that writes create_group / add_to_group in the chat.
export class Groups {
  constructor(person, world, chat) {
    this.person = person;
    this.world = world;
    this.chat = chat;
    this.list = h("ul", { class: "groups" });
    this.name = h("input", { type: "text", class: "group-name", id: `group-name-${person.key}`, placeholder: "Band" });
    this.members = h("div", { class: "group-members" });
    this.form = h(
      "form",
      { class: "group-form", hidden: true },
      h("label", { for: this.name.id }, "New group"),
      this.name,
      this.members,
      h("button", { type: "submit", class: "group-create" }, "Create group"),
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.element = h(
      "section",
      { class: "groups-box", hidden: true },
      h("div", { class: "section-title" }, "Groups"),
      this.list,
      this.form,
    );
    this.update([]);
  }

  update(groups) {
    const key = JSON.stringify(groups);
    if (key !== this.shown) {
      this.shown = key;
      const items = groups.map((g) =>
        h(
          "li",
          { class: "group", dataset: { group: g.name } },
          h("b", {}, g.name),
          h("span", {}, g.mine ? " · yours: " : ` · ${g.owner.name}'s: `),
          g.members.map((m) => m.name).join(", ") || "no members yet",
        ),
      );
      if (!items.length) items.push(h("li", { class: "empty" }, "No groups yet."));
      this.list.replaceChildren(...items);
    }
    this.refreshMembers();
  }

  refreshMembers() {
    const others = this.world.connectedOthers(this.person);
    const key = others.map((o) => o.registered_as).join("|");
    this.form.hidden = !others.length;
    if (key === this.membersKey) return;
    this.membersKey = key;
    this.members.replaceChildren(
      ...others.map((o) =>
        h("label", { class: "member" }, h("input", { type: "checkbox", value: o.registered_as }), o.registered_as),
      ),
    );
  }

  // One command at a time, each after the bot answered the one before.
  async create() {
    const name = this.name.value.trim().replace(/"/g, "'");
    if (!name) return this.name.focus();
    const picked = [...this.members.querySelectorAll("input:checked")].map((box) => box.value);
    this.name.value = "";
    this.members.querySelectorAll("input").forEach((box) => (box.checked = false));
    const slash = this.person.channel === "telegram" ? "/" : "";
    await this.chat.send(`${slash}create_group name:"${name}"`);
    for (const member of picked) await this.chat.send(`${slash}add_to_group group:"${name}" name:"${member}"`);
  }
}

function step(state, label, when) {
  return h("div", { class: `step ${state}` }, h("i"), h("b", {}, label), h("small", {}, when));
}
