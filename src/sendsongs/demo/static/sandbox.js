// The sandbox page: the calls the bot made to each stand-in, as a table.
import { getJSON, SANDBOX } from "./api.js";
import { h } from "./dom.js";

async function show() {
  const { calls } = await getJSON(`${SANDBOX}/stats`);
  const rows = Object.entries(calls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([call, count]) => h("tr", {}, h("td", {}, h("code", {}, call)), h("td", { class: "count" }, String(count))));
  if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "2" }, "No calls yet.")));
  document.querySelector("#calls tbody").replaceChildren(...rows);
}

document.getElementById("refresh").addEventListener("click", show);
show();
