// Calls the page makes: the demo's JSON (chats, standings, shares) and the sandbox's
// control API, the people's "phones" for playing music.
export const SANDBOX = "/sandbox/_sandbox";

export async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `${url}: HTTP ${response.status}`);
  return answer;
}

const person = (key) => `/demo/api/people/${encodeURIComponent(key)}`;

export const demoPeople = () => getJSON("/demo/api/people");
export const conversation = (since) => getJSON(`/demo/api/conversation?since=${since}`);
export const sharesOf = (key) => getJSON(`${person(key)}/shares`);
export const say = (key, text) => postJSON(`${person(key)}/say`, { text });
export const press = (key, button, messageId) =>
  postJSON(`${person(key)}/press`, { payload: button.payload, title: button.title, message_id: messageId });

export const catalog = () => getJSON(`${SANDBOX}/spotify/tracks`);
export const playsOf = (user) => getJSON(`${SANDBOX}/spotify/users/${encodeURIComponent(user)}/plays`);
export const play = (user, trackId) => postJSON(`${SANDBOX}/spotify/play`, { user, track_id: trackId });

export const listensOf = (user) =>
  getJSON(`${SANDBOX}/listenbrainz/users/${encodeURIComponent(user)}/listens`);
// A listen as a scrobbler sends it: from the catalog with its Spotify id and ISRC, or
// only artist and a differently spelt title, as Apple Music's scrobblers often do.
export function listen(user, track, { retitled = false } = {}) {
  const body = { user, track_id: track.id };
  if (retitled) {
    body.with_ids = false;
    body.title = `${track.name} (Remastered 2011)`;
  }
  return postJSON(`${SANDBOX}/listenbrainz/listens`, body);
}
