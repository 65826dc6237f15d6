"""Team names for sports markets: Kalshi names a team by city or code, Polymarket by nickname.

Only the NBA is covered so far. Each entry maps a Kalshi team code to the city words Kalshi
puts in titles and `yes_sub_title`, and to the nickname Polymarket uses as an outcome label.
"""

from __future__ import annotations

import re

# TODO: add the NFL, MLB and NHL; until then their markets fall back to fuzzy label matching.
NBA_TEAMS: dict[str, tuple[str, str]] = {
    "ATL": ("atlanta", "hawks"),
    "BOS": ("boston", "celtics"),
    "BKN": ("brooklyn", "nets"),
    "CHA": ("charlotte", "hornets"),
    "CHI": ("chicago", "bulls"),
    "CLE": ("cleveland", "cavaliers"),
    "DAL": ("dallas", "mavericks"),
    "DEN": ("denver", "nuggets"),
    "DET": ("detroit", "pistons"),
    "GSW": ("golden state", "warriors"),
    "HOU": ("houston", "rockets"),
    "IND": ("indiana", "pacers"),
    "LAC": ("los angeles c", "clippers"),
    "LAL": ("los angeles l", "lakers"),
    "MEM": ("memphis", "grizzlies"),
    "MIA": ("miami", "heat"),
    "MIL": ("milwaukee", "bucks"),
    "MIN": ("minnesota", "timberwolves"),
    "NOP": ("new orleans", "pelicans"),
    "NYK": ("new york", "knicks"),
    "OKC": ("oklahoma city", "thunder"),
    "ORL": ("orlando", "magic"),
    "PHI": ("philadelphia", "76ers"),
    "PHX": ("phoenix", "suns"),
    "POR": ("portland", "trail blazers"),
    "SAC": ("sacramento", "kings"),
    "SAS": ("san antonio", "spurs"),
    "TOR": ("toronto", "raptors"),
    "UTA": ("utah", "jazz"),
    "WAS": ("washington", "wizards"),
}

# Every spelling of a team (code, city, nickname, "city nickname") -> its canonical nickname.
TEAM_ALIASES: dict[str, str] = {}
for _code, (_city, _nickname) in NBA_TEAMS.items():
    for _alias in (_code.lower(), _city, _nickname, f"{_city} {_nickname}"):
        TEAM_ALIASES[_alias] = _nickname
TEAM_ALIASES["sixers"] = "76ers"
TEAM_ALIASES["blazers"] = "trail blazers"
TEAM_ALIASES["la clippers"] = "clippers"
TEAM_ALIASES["la lakers"] = "lakers"


def canonical_team(name: str) -> str | None:
    """Return the canonical nickname of a team given as code, city or nickname, or None."""
    key = " ".join(name.lower().replace(".", " ").split())
    return TEAM_ALIASES.get(key)


# Nicknames name one NBA team wherever they appear. Cities do not ("the Detroit pro football
# team"), so they count only in a text that is about basketball. Three-letter codes ("was", "min",
# "den") are ordinary words in titles and never count.
_NICKNAMES = {nickname for _city, nickname in NBA_TEAMS.values()} | {"sixers", "blazers"}
_NICKNAME_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _NICKNAMES), key=len, reverse=True)) + r")\b")
_CITY_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(a) for a in TEAM_ALIASES if len(a) > 3 and a not in _NICKNAMES),
                             key=len, reverse=True)) + r")\b"
)
_BASKETBALL_RE = re.compile(r"\b(nba|basketball)\b|\bkxnba")


def team_nicknames(text: str | None) -> list[str]:
    """Return the canonical nicknames of the NBA teams a text names, in order of appearance.

    Kalshi titles name games by city ("Boston at Denver") and Polymarket by nickname ("Celtics
    vs. Nuggets"). Adding the nicknames to both texts lets text similarity see the same game.
    Cities count only when the text mentions the NBA, basketball or a KXNBA ticker.
    """
    if not text:
        return []
    norm = " ".join(str(text).lower().replace(".", " ").split())
    matches = [(m.start(), TEAM_ALIASES[m.group(1)]) for m in _NICKNAME_RE.finditer(norm)]
    if _BASKETBALL_RE.search(norm):
        matches += [(m.start(), TEAM_ALIASES[m.group(1)]) for m in _CITY_RE.finditer(norm)]
    names: list[str] = []
    for _position, nickname in sorted(matches):
        if nickname not in names:
            names.append(nickname)
    return names
