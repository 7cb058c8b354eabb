"""The short-link stand-in: registered codes redirect to open.spotify.com, others 404."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

PAPER = "46X0dXeliHXD73sxexJx7d"
ALBUM_URL = "https://open.spotify.com/album/4MCGJ8pIDBtvuahHY3XkQR"


async def test_a_registered_code_redirects_to_the_track(client: httpx.AsyncClient) -> None:
    made = await client.post(
        "/_sandbox/spotify/short-links", json={"code": "Zq9XwV3KpLm", "track_id": PAPER}
    )
    assert made.status_code == 200
    link = made.json()
    assert link["short_url"] == "https://spotify.link/Zq9XwV3KpLm"
    assert link["sandbox_path"] == "/shortlink/spotify.link/Zq9XwV3KpLm"
    response = await client.get(link["sandbox_path"])
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc) == ("https", "open.spotify.com")
    assert location.path == f"/track/{PAPER}"
    assert len(parse_qs(location.query)["si"][0]) >= 16
    assert (await client.head(link["sandbox_path"])).status_code == 302
    listed = (await client.get("/_sandbox/spotify/short-links")).json()["short_links"]
    assert listed == [link]


async def test_other_hosts_codes_and_non_track_targets(client: httpx.AsyncClient) -> None:
    await client.post(
        "/_sandbox/spotify/short-links",
        json={"host": "link.tospotify.com", "code": "a1B2c3D4e5", "url": ALBUM_URL},
    )
    album = await client.get("/shortlink/link.tospotify.com/a1B2c3D4e5")
    assert album.status_code == 302 and album.headers["location"] == ALBUM_URL
    assert (await client.get("/shortlink/spotify.link/a1B2c3D4e5")).status_code == 404
    assert (await client.get("/shortlink/spotify.link/unknown")).status_code == 404
    assert (await client.get("/shortlink/example.com/a1B2c3D4e5")).status_code == 404
    calls = (await client.get("/_sandbox/stats")).json()["calls"]
    assert calls == {"GET /shortlink/{host}/{code}": 4}


async def test_short_link_faults_and_bad_registrations(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/spotify/short-links", json={"code": "x1", "track_id": PAPER})
    await client.post("/_sandbox/faults", json={"path_prefix": "/shortlink/", "status": 503})
    failed = await client.get("/shortlink/spotify.link/x1")
    assert failed.status_code == 503 and failed.headers["content-type"].startswith("text/plain")
    assert (await client.get("/shortlink/spotify.link/x1")).status_code == 302
    for bad in (
        {"track_id": "short"},
        {"url": "ftp://x"},
        {},
        {"track_id": PAPER, "url": ALBUM_URL},
        {"host": "bit.ly", "track_id": PAPER},
    ):
        response = await client.post("/_sandbox/spotify/short-links", json=bad)
        assert response.status_code == 400, bad
    await client.post("/_sandbox/reset")
    assert (await client.get("/shortlink/spotify.link/x1")).status_code == 404
