// The "share a song" helper: pick connected friends or a group and a song, add notes,
// and it sends the send_song command in the chat (shown first, so it can be learnt).
import { h, trackLabel } from "./dom.js";

export function shareHelper(person, world, send) {
  const to = h("select", { class: "share-friend", id: `share-to-${person.key}` });
  const track = h(
    "select",
    { class: "share-track", id: `share-track-${person.key}` },
    world.tracks.map((t) => h("option", { value: t.id }, trackLabel(t))),
  );
  const pre = h("input", {
    class: "share-pre",
    id: `share-pre-${person.key}`,
    type: "text",
    placeholder: "You need this",
  });
  const post = h("input", {
    class: "share-post",
    id: `share-post-${person.key}`,
    type: "text",
    placeholder: "Told you!",
  });
  const preview = h("code", { class: "share-preview" });
  const sendButton = h("button", { type: "submit", class: "share-write" }, "Send song");
  const empty = h("p", { class: "share-empty" }, "Nobody to send to yet: the friends you share with connect first.");
  const label = (id, text, hint) =>
    h("label", { for: id }, text, hint ? h("small", {}, ` ${hint}`) : null);
  const form = h(
    "form",
    { class: "share-helper", hidden: true },
    h("div", { class: "share-title" }, "Share a song"),
    empty,
    h("div", { class: "share-field" }, label(to.id, "To"), to),
    h("div", { class: "share-field" }, label(track.id, "Song"), track),
    h("div", { class: "share-field" }, label(pre.id, "Note with the song", "(optional)"), pre),
    h("div", { class: "share-field" }, label(post.id, "Note after they listened", "(optional)"), post),
    h("div", { class: "share-sends" }, "Sends ", preview),
    sendButton,
  );

  const command = () => {
    const parts = ["send_song", to.value];
    if (pre.value.trim()) parts.push(`pre:"${quote(pre.value)}"`);
    if (post.value.trim()) parts.push(`post:"${quote(post.value)}"`);
    parts.push(`https://open.spotify.com/track/${track.value}`);
    return parts.join(" ");
  };
  const update = () => {
    preview.textContent = to.value ? command() : "";
    sendButton.disabled = !to.value;
  };
  // Only people who connected can be sent a song, and only groups they may send to.
  const recipients = () => {
    const chosen = to.value;
    const people = world.connectedOthers(person).map((other) =>
      h("option", { value: `name:"${other.registered_as}"` }, other.registered_as),
    );
    const groups = world.groupsOf(person).map((group) =>
      h("option", { value: `group:"${group.name}"` }, `Group: ${group.name}${group.mine ? "" : ` (${group.owner.name}'s)`}`),
    );
    to.replaceChildren(...people, ...groups);
    if ([...to.options].some((o) => o.value === chosen)) to.value = chosen;
    empty.hidden = to.options.length > 0;
    update();
  };
  form.addEventListener("open", recipients);
  form.refresh = recipients;
  for (const field of [to, track, pre, post]) field.addEventListener("input", update);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!to.value) return;
    const text = command();
    pre.value = "";
    post.value = "";
    form.hidden = true;
    send(text);
  });
  return form;
}

// the chat grammar reads any double quote as the end of a note, curly ones included
const quote = (text) => text.trim().replace(/["\u201c-\u201f\u2033\uff02]/g, "'");
