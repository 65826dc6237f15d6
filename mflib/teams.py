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


# Cities and nicknames only: three-letter codes ("was", "min", "den") are ordinary words in titles.
_TEAM_NAME_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(a) for a in TEAM_ALIASES if len(a) > 3 or a == "heat"),
                             key=len, reverse=True)) + r")\b"
)


def team_nicknames(text: str | None) -> list[str]:
    """Return the canonical nicknames of the teams a text names by city or nickname, in order.

    Kalshi titles name games by city ("Boston at Denver") and Polymarket by nickname ("Celtics
    vs. Nuggets"). Adding the nicknames to both texts lets text similarity see the same game.
    """
    if not text:
        return []
    names = []
    for match in _TEAM_NAME_RE.finditer(" ".join(str(text).lower().replace(".", " ").split())):
        nickname = TEAM_ALIASES[match.group(1)]
        if nickname not in names:
            names.append(nickname)
    return names
