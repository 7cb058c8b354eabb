// The Spotify sign-in window. Every demo person shares this one browser, so the page
// picks the matching sandbox account on the consent page and reads the sign-up code.

const WATCH_EVERY = 150; // ms
const WATCH_FOR = 10 * 60 * 1000; // the bot's state is valid for 10 minutes

export function openSpotifyLogin(url, person, { onCode } = {}) {
  const features = "popup,width=520,height=760,left=160,top=80";
  const win = window.open(url, `spotify-${person.key}`, features);
  if (!win) {
    window.location.assign(url); // popups blocked: go there in this tab instead
    return;
  }
  const started = Date.now();
  const timer = setInterval(() => {
    if (win.closed || Date.now() - started > WATCH_FOR) {
      clearInterval(timer);
      return;
    }
    let doc;
    try {
      doc = win.document;
    } catch {
      return; // mid-navigation
    }
    if (!doc || doc.readyState === "loading") return;
    pickAccount(doc, person);
    const command = doc.getElementById("command");
    if (command && !command.dataset.demoTaken) {
      command.dataset.demoTaken = "1";
      onCode?.(command.textContent.trim());
    }
  }, WATCH_EVERY);
}

function pickAccount(doc, person) {
  const select = doc.querySelector("select#user");
  if (!select || select.dataset.demoPicked) return;
  select.dataset.demoPicked = "1";
  if ([...select.options].some((option) => option.value === person.account)) {
    select.value = person.account;
    const hint = doc.createElement("p");
    hint.className = "hint";
    hint.id = "demo-picked";
    hint.textContent = `The demo chose ${person.name}'s account for you.`;
    select.after(hint);
  }
}
