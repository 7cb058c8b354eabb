// Calls the page makes: the sandbox's control API (the "phones") and the demo's JSON.
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

export const demoPeople = () => getJSON("/demo/api/people");
export const sharesOf = (psid) => getJSON(`/demo/api/people/${encodeURIComponent(psid)}/shares`);
export const catalog = () => getJSON(`${SANDBOX}/spotify/tracks`);
export const messagesSince = (since) => getJSON(`${SANDBOX}/messenger/messages?since=${since}`);
export const playsOf = (user) =>
  getJSON(`${SANDBOX}/spotify/users/${encodeURIComponent(user)}/plays`);

export function say(psid, text, quickReplyPayload) {
  const body = { psid, text };
  if (quickReplyPayload) body.quick_reply_payload = quickReplyPayload;
  return postJSON(`${SANDBOX}/messenger/say`, body);
}

export const play = (user, trackId) => postJSON(`${SANDBOX}/spotify/play`, { user, track_id: trackId });
