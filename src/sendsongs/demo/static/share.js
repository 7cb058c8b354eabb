// The "share a song" helper: pick a friend and a track, get the send_song text written.
import { h, artistsOf } from "./dom.js";

export function shareHelper(person, world, onWrite) {
  const friends = world.people.filter((other) => other.psid !== person.psid);
  const friend = h(
    "select",
    { class: "share-friend", "aria-label": "Friend" },
    friends.map((other) => h("option", { value: other.name }, other.name)),
  );
  const track = h(
    "select",
    { class: "share-track", "aria-label": "Song" },
    world.tracks.map((t) => h("option", { value: t.id }, `${t.name} — ${artistsOf(t)}`)),
  );
  const pre = h("input", {
    class: "share-pre",
    type: "text",
    placeholder: "Note with it",
    "aria-label": "Note sent with the song",
  });
  const post = h("input", {
    class: "share-post",
    type: "text",
    placeholder: "Note for after",
    "aria-label": "Note sent after they listened",
  });
  const form = h(
    "form",
    { class: "share-helper", hidden: true },
    h("div", { class: "share-title" }, "Share a song"),
    h("label", {}, h("span", {}, "To"), friend),
    h("label", {}, h("span", {}, "Song"), track),
    h("div", { class: "share-notes" }, pre, post),
    h("button", { type: "submit", class: "share-write" }, "Write the message"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const parts = ["send_song", `name:"${friend.value}"`];
    if (pre.value.trim()) parts.push(`pre:"${quote(pre.value)}"`);
    if (post.value.trim()) parts.push(`post:"${quote(post.value)}"`);
    parts.push(`https://open.spotify.com/track/${track.value}`);
    onWrite(parts.join(" "));
    pre.value = "";
    post.value = "";
    form.hidden = true;
  });
  return form;
}

// the chat grammar reads any double quote as the end of a note, curly ones included
const quote = (text) => text.trim().replace(/["\u201c-\u201f\u2033\uff02]/g, "'");
