// The demo page: a column per demo person, kept fresh by polling the demo server.
import { catalog, conversation, demoPeople, sharesOf } from "./api.js";
import { h } from "./dom.js";
import { PersonPane } from "./person.js";

const MESSAGES_EVERY = 1000; // ms; the bot answers within a second or two
const STANDING_EVERY = 1500;
const PLAYS_EVERY = 5000;

async function main() {
  const [info, { tracks }] = await Promise.all([demoPeople(), catalog()]);
  const panes = new Map();
  let standing = info.people;
  const groups = new Map(); // person key -> their groups
  const world = {
    run: info.run,
    timing: info.timing,
    people: info.people,
    tracks,
    trackById: new Map(tracks.map((track) => [track.id, track])),
    reveal: (person, trackId) => panes.get(person.key).player.reveal(trackId),
    playAs: (person, trackId) => {
      panes.get(person.key).player.reveal(trackId);
      return panes.get(person.key).player.play(trackId);
    },
    connectedOthers: (person) => standing.filter((p) => p.key !== person.key && p.registered),
    groupsOf: (person) => groups.get(person.key) || [],
    toast,
  };
  const columns = document.getElementById("people");
  for (const person of info.people) {
    const pane = new PersonPane(person, world);
    panes.set(person.key, pane);
    columns.append(pane.element);
  }
  document.getElementById("expire-after").textContent = span(info.timing.expire_after);

  let next = 0;
  every(MESSAGES_EVERY, async () => {
    const answer = await conversation(next);
    next = answer.next;
    for (const [key, pane] of panes) pane.chat.add(answer.entries.filter((e) => e.person === key));
  });
  every(STANDING_EVERY, async () => {
    const [people, ...shares] = await Promise.all([
      demoPeople(),
      ...info.people.map((person) => sharesOf(person.key)),
    ]);
    if (people.run !== info.run) window.location.reload(); // the demo was restarted
    standing = people.people;
    for (const person of standing) panes.get(person.key)?.showStanding(person);
    for (const answer of shares) {
      groups.set(answer.key, answer.groups);
      panes.get(answer.key)?.showShares(answer);
    }
  });
  every(PLAYS_EVERY, () => Promise.all([...panes.values()].map((pane) => pane.player.refresh())));
}

// Run `step` now and then `ms` after each run ends, so slow answers never pile up.
function every(ms, step) {
  const run = async () => {
    try {
      await step();
      document.body.classList.remove("offline");
    } catch (error) {
      document.body.classList.add("offline");
      console.warn(error);
    }
    setTimeout(run, ms);
  };
  run();
}

let toastTimer;
function toast(text) {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", role: "status" });
    document.body.append(box);
  }
  box.textContent = text;
  box.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("shown"), 3000);
}

function span(seconds) {
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}

main().catch((error) => {
  document.getElementById("people").textContent = `The demo could not start: ${error.message}`;
});
