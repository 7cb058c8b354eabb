"""Stand-ins for Spotify's short-link hosts, `spotify.link` and `link.tospotify.com`.

What Spotify's share sheet produces on some platforms is `https://spotify.link/<code>`
(formerly `https://link.tospotify.com/<code>`); following its redirects lands on
`https://open.spotify.com/<type>/<id>?si=...`. The sandbox answers
`GET /shortlink/<host>/<code>` with that last hop directly: 302 and a `Location` on
open.spotify.com for a code registered with `POST /_sandbox/spotify/short-links`, and
404 for any other code. (The real hosts go through `spotify.app.link` and may answer
browsers with a page instead of a redirect; a bot resolving links sees the redirect.)
The bot reaches it by rewriting `https://spotify.link/X` to
`<sandbox>/shortlink/spotify.link/X` in tests.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.spotify_world import SHORT_LINK_HOSTS, SpotifyWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route


class ShortLinks:
    """The redirecting route over the registered codes."""

    def __init__(self, world: SpotifyWorld) -> None:
        self.world = world

    def routes(self, traffic: Traffic) -> list[Route]:
        return [
            api_route(
                "/shortlink/{host}/{code}", self.follow, ["GET", "HEAD"], traffic, Family.LINKS
            )
        ]

    async def follow(self, request: Request) -> Response:
        host, code = request.path_params["host"], request.path_params["code"]
        link = self.world.short_links.get((host, code)) if host in SHORT_LINK_HOSTS else None
        if link is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return RedirectResponse(link.target, status_code=302)
