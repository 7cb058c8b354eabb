// Tiny DOM helpers: elements built from parts, never from message text as HTML.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "style") element.style.cssText = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// Cover art without images: a gradient whose hue comes from the track id.
export function cover(trackId, size = "") {
  let hash = 0;
  for (const char of trackId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  return h("span", {
    class: `cover ${size}`,
    "aria-hidden": "true",
    style: `background: linear-gradient(135deg, hsl(${hue} 70% 58%), hsl(${(hue + 50) % 360} 65% 36%))`,
  });
}

export const artistsOf = (track) =>
  (track.artists || []).map((artist) => (typeof artist === "string" ? artist : artist.name)).join(", ");

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
}

export function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min ago` : clock(iso);
}

export function duration(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// The Spotify track id in a link, if the link is to a track.
export function trackIdIn(url) {
  const match = /open\.spotify\.com\/(?:intl-[a-z-]+\/)?track\/([0-9A-Za-z]{22})|spotify:track:([0-9A-Za-z]{22})/.exec(url);
  return match ? match[1] || match[2] : null;
}

// "Northbound Static — Halden Reyes (single)": a recording released twice (a single,
// then an album) must not look like one entry listed twice.
export function releaseOf(track) {
  const album = track.album || {};
  if (album.album_type === "single") return "Single";
  if (album.album_type === "compilation") return `${album.name} (compilation)`;
  return album.name ? `${album.name} (album)` : "";
}

export function trackLabel(track) {
  const release = releaseOf(track);
  return `${track.name} — ${artistsOf(track)}${release ? ` · ${release}` : ""}`;
}

// The link a person would get from Share → Copy Song Link, copied to the clipboard.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { style: "position:fixed;opacity:0" }, text);
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  }
}
