"""The sandbox's fixed music catalog: made-up tracks with Spotify-shaped ids.

Track objects carry no `popularity`: Spotify's February 2026 Web API changes removed it
(https://developer.spotify.com/documentation/web-api/references/changes/february-2026)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_ID = re.compile(r"[0-9A-Za-z]{22}")


def is_base62_id(value: str) -> bool:
    """Whether `value` has the shape of a Spotify id (22 base62 characters)."""
    return _BASE62_ID.fullmatch(value) is not None


def derived_id(seed: str) -> str:
    """A stable 22-character base62 id for an artist or album name."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


@dataclass(frozen=True)
class CatalogTrack:
    """One recording on one release."""

    id: str
    name: str
    artists: tuple[str, ...]
    album: str
    album_type: str  # "album" | "single" | "compilation"
    release_date: str
    duration_ms: int
    isrc: str
    track_number: int = 1
    explicit: bool = False

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/track/{self.id}"


# The single and album versions of "Northbound Static" are one recording: same ISRC,
# same length, different ids, so the bot's ISRC matching has something to match.
# "Salt and Sand" and "Totally Different Song" are two different songs that carry one
# ISRC by a label's mistake (Spotify staff confirm such duplicates exist), so the bot
# can prove an ISRC match alone is not a listen; "Salt and Sand" is 1.5 s long, so
# even a full play of it never reaches the history.
TRACKS: tuple[CatalogTrack, ...] = (
    CatalogTrack(
        "46X0dXeliHXD73sxexJx7d",
        "Paper Lanterns",
        ("The Velvet Orchards",),
        "Low Tide Radio",
        "album",
        "2017-09-15",
        221_480,
        "USXR11700231",
        3,
    ),
    CatalogTrack(
        "2I0FOWHzP5dBiNNFLFsxVt",
        "Happy Now",
        ("Mara Quell", "Juno Ashby"),
        "Happy Now",
        "single",
        "2018-07-19",
        207_930,
        "GBKQU1800417",
    ),
    CatalogTrack(
        "vFoEnZVo6Z2QCWmRQg4Go6",
        "Northbound Static",
        ("Halden Reyes",),
        "Northbound Static",
        "single",
        "2024-02-09",
        194_200,
        "SEBGA2400113",
    ),
    CatalogTrack(
        "p11S8rklQ03wXGqB2fsc5j",
        "Northbound Static",
        ("Halden Reyes",),
        "Weather for Strangers",
        "album",
        "2024-05-31",
        194_200,
        "SEBGA2400113",
        4,
    ),
    CatalogTrack(
        "pMENH7ybTsewevjHUg7bAi",
        "Copper Skies",
        ("Lina Marsh",),
        "Field Notes",
        "album",
        "2021-03-12",
        248_760,
        "USQE92100874",
        1,
    ),
    CatalogTrack(
        "5ASBFpJz8t5t7dEExLH6uw",
        "Glasshouse",
        ("Odd Meridian",),
        "Glasshouse",
        "single",
        "2023-10-06",
        176_040,
        "GBARL2300562",
        explicit=True,
    ),
    CatalogTrack(
        "47eW5Nr2wi54LLC9FR1KpD",
        "Tuesday Ghosts",
        ("Pim & the Lowlights",),
        "Small Hours",
        "album",
        "2019-11-01",
        263_310,
        "NLA321900145",
        7,
    ),
    CatalogTrack(
        "Iw7IodBQSWLjoQR55NryOl",
        "Salt Road",
        ("Ayla Brandt", "Teo Vance"),
        "Salt Road",
        "single",
        "2022-06-24",
        201_870,
        "DEUM72200319",
    ),
    CatalogTrack(
        "qZnrMlii5pgAGGZg1rA4by",
        "Neon Orchard",
        ("The Velvet Orchards",),
        "Low Tide Radio",
        "album",
        "2017-09-15",
        289_050,
        "USXR11700229",
        1,
    ),
    CatalogTrack(
        "ZDSrOBSPVSZV7ioZZwqYgI",
        "Slow Satellites",
        ("Kaia Lund",),
        "Orbit Songs",
        "album",
        "2020-08-21",
        232_640,
        "NOUM72000481",
        2,
    ),
    CatalogTrack(
        "bTKWMBkIz293NQnh6nXoSg",
        "Backseat Atlas",
        ("Rowan Ile",),
        "Backseat Atlas",
        "single",
        "2025-01-17",
        158_920,
        "CAUM82500037",
        explicit=True,
    ),
    CatalogTrack(
        "0yDKiKOjsxOO81OKEa9FS7",
        "Winter Arcade",
        ("Mara Quell",),
        "Arcade Lights",
        "album",
        "2016-12-02",
        297_400,
        "GBKQU1600652",
        9,
    ),
    CatalogTrack(
        "orOkXbQzW7UOsL7Os6RULg",
        "Salt and Sand",
        ("Wren Castell",),
        "Salt and Sand",
        "single",
        "2020-04-03",
        1_500,
        "USRC17000006",
    ),
    CatalogTrack(
        "jYSmSOpa7vbgcK17Pex1Wl",
        "Totally Different Song",
        ("The Borrowed Codes",),
        "Mislabelled",
        "album",
        "2021-09-10",
        241_000,
        "USRC17000006",
        5,
    ),
)

_BY_ID = {track.id: track for track in TRACKS}


def find_track(track_id: str) -> CatalogTrack | None:
    """The catalog track with this id, if any."""
    return _BY_ID.get(track_id)
