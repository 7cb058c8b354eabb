// The demo page: builds a column per demo person and keeps them fresh by polling.
import { catalog, demoPeople, messagesSince, sharesOf } from "./api.js";
import { PersonPane } from "./person.js";

const MESSAGES_EVERY = 1000; // ms; the bot answers within a second or two
const STANDING_EVERY = 1500;
const PLAYS_EVERY = 5000;

async function main() {
  const [info, { tracks }] = await Promise.all([demoPeople(), catalog()]);
  const panes = new Map();
  const world = {
    run: info.run,
    timing: info.timing,
    people: info.people,
    tracks,
    trackById: new Map(tracks.map((track) => [track.id, track])),
    reveal: (person, trackId) => panes.get(person.psid).spotify.reveal(trackId),
    playAs: (person, trackId) => panes.get(person.psid).spotify.play(trackId),
  };
  const columns = document.getElementById("people");
  for (const person of info.people) {
    const pane = new PersonPane(person, world);
    panes.set(person.psid, pane);
    columns.append(pane.element);
  }
  document.getElementById("expire-after").textContent = span(info.timing.expire_after);

  let next = 0;
  every(MESSAGES_EVERY, async () => {
    const answer = await messagesSince(next);
    next = answer.next;
    for (const [psid, pane] of panes) {
      pane.chat.addBotMessages(answer.messages.filter((m) => m.recipient_id === psid));
    }
  });
  every(STANDING_EVERY, async () => {
    const [people, ...shares] = await Promise.all([
      demoPeople(),
      ...info.people.map((person) => sharesOf(person.psid)),
    ]);
    if (people.run !== info.run) window.location.reload(); // the demo was restarted
    for (const person of people.people) panes.get(person.psid)?.showStanding(person);
    for (const answer of shares) panes.get(answer.psid)?.timeline.update(answer.shares);
  });
  every(PLAYS_EVERY, () => Promise.all([...panes.values()].map((pane) => pane.spotify.refresh())));
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

function span(seconds) {
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}

main().catch((error) => {
  document.getElementById("people").textContent = `The demo could not start: ${error.message}`;
});
