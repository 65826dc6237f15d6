"""A seeded synthetic universe of Kalshi and Polymarket markets with known true pairs and near-misses.

Every name, title and number comes from the templates below (no recorded data). The universe
mimics how the venues list questions: Kalshi ladders of strikes and dates, one market per candidate,
two markets per game; Polymarket negRisk events with `groupItemTitle`, games whose outcomes are the
teams, and many markets with no counterpart (player props, short crypto up/down markets).

`generate_universe` returns the markets (MARKET_COLUMNS) and a truth table with one row per
planted pair: `relation` is `same`, `inverted` or `different`, and `kind` tells which template
and, for near-misses, what differs (`deadline`, `threshold`, `entity`, `orientation`).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pandas as pd

from mflib.schema import MARKET_COLUMNS, coerce_frame

SYLLABLES = (
    "ka ro mi ten sa vor lin dro pa zel qui mar to ben ras li no vek tal or hu gan fi del mu sor "
    "ya ther kol ash em bri cor dun el fa gor hel ix jun kes lo mer nat ok pir rud sil tur ul vin"
).split()
CITY_WORDS = "Port Lake North South East West New Fort Glen River Bay Mount Green Red Stone Iron".split()
MASCOTS = (
    "Hawks Wolves Bears Lions Comets Rangers Pilots Giants Storm Kings Royals Titans Falcons Sharks "
    "Vipers Bulls Owls Foxes Rams Jets Knights Raiders Dragons Otters Bison Herons Lynx Cobras Moose Hornets"
).split()
ASSETS = ["Bitcoin", "Ethereum", "Solana", "Ripple", "Dogecoin", "Cardano"]
ASSET_STEPS = {"Bitcoin": 1000, "Ethereum": 50, "Solana": 5, "Ripple": 0.1, "Dogecoin": 0.01, "Cardano": 0.05}
ASSET_BASE = {"Bitcoin": 100000, "Ethereum": 3000, "Solana": 150, "Ripple": 2.5, "Dogecoin": 0.3, "Cardano": 0.8}
OFFICES = ["governor", "senate seat", "mayor", "president", "prime minister", "party leader"]
ACTIONS = [
    ("be confirmed as ambassador", "confirmed as ambassador"),
    ("announce a presidential run", "announces presidential run"),
    ("leave office", "out of office"),
    ("be indicted", "indicted"),
    ("visit the capital", "visits the capital"),
    ("sign the trade deal", "signs trade deal"),
    ("resign as chair", "resigns as chair"),
    ("launch the new satellite", "launches new satellite"),
]
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@dataclass
class Universe:
    """The generated markets and the planted pairs with their expected relation."""

    markets: pd.DataFrame
    truth: pd.DataFrame  # kalshi_id, polymarket_id, relation, kind


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict] = []
        self.truth: list[dict] = []
        self.poly_counter = 0
        self.names: set[str] = set()

    def word(self, parts: int) -> str:
        return "".join(self.rng.choices(SYLLABLES, k=parts)).capitalize()

    def person(self) -> str:
        while True:
            name = f"{self.word(2)} {self.word(int(self.rng.randrange(2, 4)))}"
            if name not in self.names:
                self.names.add(name)
                return name

    def place(self) -> str:
        while True:
            name = self.word(3)
            if name not in self.names:
                self.names.add(name)
                return name

    def kalshi(self, ticker: str, event: str, title: str, subtitle: str, close: dt.datetime, category: str,
               event_title: str | None = None) -> str:
        self.rows.append({
            "platform": "kalshi", "market_id": ticker, "venue_market_id": ticker, "event_id": event,
            "series_id": event.split("-")[0], "event_title": event_title or title, "title": title,
            "subtitle": subtitle, "category": category, "close_time": close, "status": "open",
            "tradeable": True, "liquidity_usd": float(self.rng.randrange(100, 50000)),
            "outcome_yes": "Yes", "outcome_no": "No",
        })
        return ticker

    def poly(self, event: str, event_title: str, question: str, group_item: str, close: dt.datetime,
             category: str, outcomes: tuple[str, str] = ("Yes", "No"), slug: str | None = None) -> str:
        self.poly_counter += 1
        condition_id = f"0x{self.poly_counter:064x}"
        self.rows.append({
            "platform": "polymarket", "market_id": condition_id, "venue_market_id": str(self.poly_counter),
            "event_id": event, "event_title": event_title, "title": question, "subtitle": group_item,
            "category": category, "close_time": close, "status": "open", "tradeable": True,
            "liquidity_usd": float(self.rng.randrange(0, 100000)), "outcome_yes": outcomes[0],
            "outcome_no": outcomes[1], "slug": slug or question.lower().replace(" ", "-")[:60],
            "neg_risk": bool(group_item),
        })
        return condition_id

    def plant(self, kalshi_id: str, polymarket_id: str, relation: str, kind: str) -> None:
        self.truth.append({"kalshi_id": kalshi_id, "polymarket_id": polymarket_id, "relation": relation, "kind": kind})


def _date_text(day: dt.datetime) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _crypto(b: _Builder, kalshi_budget: int, poly_budget: int) -> None:
    """Daily strike ladders: Kalshi lists 15 strikes per day, Polymarket 10 around the same centre."""
    days_per_asset = max(1, kalshi_budget // (len(ASSETS) * 15))
    for asset in ASSETS:
        step = ASSET_STEPS[asset]
        for d in range(days_per_asset):
            day = START + dt.timedelta(days=int(d * 3), hours=21)
            centre = ASSET_BASE[asset] * (1 + b.rng.gauss(0, 0.05))
            strikes = [round(centre / step) * step + (i - 7) * step for i in range(15)]
            tickers = {}
            for strike in strikes:
                strike_text = f"{strike:,.2f}".rstrip("0").rstrip(".") if step < 1 else f"{strike:,.0f}"
                ticker = f"KX{asset[:3].upper()}D-{day:%y%b%d}{day.hour}-T{strike_text.replace(',', '')}".upper()
                tickers[strike] = b.kalshi(ticker, ticker.rsplit("-", 1)[0],
                                           f"{asset} price on {day:%b} {day.day}, {day.year} at 5pm EDT?",
                                           f"${strike_text} or above", day, "Crypto")
            event = f"crypto-{asset}-{d}"
            for strike in strikes[3:13]:
                strike_text = f"{strike:,.2f}".rstrip("0").rstrip(".") if step < 1 else f"{strike:,.0f}"
                question = f"Will the price of {asset} be above ${strike_text} on {day:%B} {day.day}?"
                poly_id = b.poly(event, f"{asset} above ___ on {day:%B} {day.day}?", question, f"${strike_text}",
                                 day, "Crypto")
                if strike == strikes[7]:
                    b.plant(tickers[strike], poly_id, "same", "crypto_strike")
                    b.plant(tickers[strike + step], poly_id, "different", "threshold")
    # Short up/down markets exist only on Polymarket.
    for i in range(poly_budget - len(ASSETS) * days_per_asset * 10):
        asset = ASSETS[i % len(ASSETS)]
        hour = START + dt.timedelta(hours=i)
        b.poly(f"updown-{i}", f"{asset} Up or Down", f"{asset} Up or Down - {hour:%B} {hour.day}, {hour:%I%p} ET",
               "", hour, "Crypto", ("Up", "Down"))


def _date_ladders(b: _Builder, events: int) -> None:
    """Kalshi asks one question at three deadlines; Polymarket lists two deadlines, one shared."""
    for e in range(events):
        person = b.person()
        kalshi_phrase, poly_phrase = ACTIONS[e % len(ACTIONS)]
        first = START + dt.timedelta(days=int(b.rng.randrange(20, 500)))
        deadlines = [first + dt.timedelta(days=61 * i) for i in range(3)]
        kalshi_ids = []
        for deadline in deadlines:
            ticker = f"KXEVT{e}-{deadline:%y%b%d}".upper()
            kalshi_ids.append(b.kalshi(ticker, f"KXEVT{e}", f"Will {person} {kalshi_phrase} before {_date_text(deadline)}?",
                                       f"Before {deadline:%b} {deadline.day}, {deadline.year}", deadline, "Politics",
                                       event_title=f"{person} {poly_phrase}?"))
        event = f"ladder-{e}"
        shared = deadlines[1] - dt.timedelta(days=1)
        same_id = b.poly(event, f"{person} {poly_phrase} by ...?", f"{person} {poly_phrase} by {_date_text(shared)}?",
                         f"{shared:%B} {shared.day}", shared, "Politics")
        later = deadlines[2] + dt.timedelta(days=45)
        other_id = b.poly(event, f"{person} {poly_phrase} by ...?", f"{person} {poly_phrase} by {_date_text(later)}?",
                          f"{later:%B} {later.day}", later, "Politics")
        b.plant(kalshi_ids[1], same_id, "same", "date_ladder")
        b.plant(kalshi_ids[2], other_id, "different", "deadline")
        if e % 4 == 0:
            # Orientation: the Polymarket question asks for the opposite outcome.
            negated = b.poly(f"{event}-not", f"{person} {poly_phrase}?",
                             f"Will {person} not {kalshi_phrase} before {_date_text(deadlines[0])}?", "",
                             deadlines[0], "Politics")
            b.plant(kalshi_ids[0], negated, "inverted", "orientation")


def _elections(b: _Builder, events: int, candidates: int) -> None:
    """One Kalshi market per candidate; a Polymarket negRisk event with the same candidates."""
    for e in range(events):
        place = b.place()
        office = OFFICES[e % len(OFFICES)]
        year = 2026 + e % 3
        close = dt.datetime(year, 11, 4, 15, tzinfo=dt.UTC)
        people = [b.person() for _ in range(candidates)]
        event = f"KXELECT{e}-{year % 100}"
        event_title = f"Who will win the {place} {office} election in {year}?"
        kalshi_ids = [
            b.kalshi(f"{event}-{person.split()[1][:4].upper()}{i}", event, event_title, person, close, "Elections")
            for i, person in enumerate(people)
        ]
        poly_event = f"elect-{e}"
        for i, person in enumerate(people[: candidates - 2]):
            poly_id = b.poly(poly_event, f"{place} {office} election winner {year}",
                             f"Will {person} win the {place} {office} election?", person,
                             close - dt.timedelta(hours=15), "Politics")
            b.plant(kalshi_ids[i], poly_id, "same", "election_candidate")
            if i == 0:
                b.plant(kalshi_ids[1], poly_id, "different", "entity")


def _games(b: _Builder, games: int, props_per_game: int) -> None:
    """Two Kalshi markets per game (one per team); one Polymarket market whose outcomes are the teams."""
    teams = [f"{b.rng.choice(CITY_WORDS)} {b.word(2)} {mascot}" for mascot in MASCOTS for _ in range(4)]
    for g in range(games):
        home, away = b.rng.sample(range(len(teams)), 2)
        home_team, away_team = teams[home], teams[away]
        start = START + dt.timedelta(days=int(g // 12), hours=int(b.rng.randrange(17, 23)))
        event = f"KXGAME-{start:%y%b%d}G{g}".upper()
        title = f"{away_team} at {home_team} Winner?"
        away_id = b.kalshi(f"{event}-A{g}", event, title, away_team, start + dt.timedelta(days=7), "Sports")
        home_id = b.kalshi(f"{event}-H{g}", event, title, home_team, start + dt.timedelta(days=7), "Sports")
        poly_id = b.poly(f"game-{g}", f"{away_team} vs. {home_team}", f"{away_team} vs. {home_team}", "",
                         start + dt.timedelta(hours=3), "Sports", (away_team, home_team))
        b.plant(away_id, poly_id, "same", "game")
        b.plant(home_id, poly_id, "inverted", "game")
        for p in range(props_per_game):
            player = b.person()
            b.poly(f"game-{g}", f"{away_team} vs. {home_team}",
                   f"{player} over {p + 10}.5 points vs. the {home_team.split()[-1]}?", f"{player}",
                   start + dt.timedelta(hours=3), "Sports")


def _economy(b: _Builder, months: int) -> None:
    """Rate-decision and unemployment ladders, with Polymarket asking a subset."""
    for m in range(months):
        meeting = START + dt.timedelta(days=int(30 * m + 20))
        event = f"KXFEDRATE-{meeting:%y%b}".upper()
        rates = [3.0 + 0.25 * i for i in range(8)]
        kalshi_ids = {}
        for rate in rates:
            kalshi_ids[rate] = b.kalshi(f"{event}-T{rate:.2f}", event,
                                        f"Will the Fed funds upper bound be above {rate:.2f}% after the {meeting:%B} {meeting.year} meeting?",
                                        f"Above {rate:.2f}%", meeting, "Economics")
        poly_id = b.poly(f"fed-{m}", f"Fed decision in {meeting:%B}?",
                         f"Fed funds upper bound above {rates[4]:.2f}% after {meeting:%B} {meeting.year} meeting?",
                         f"Above {rates[4]:.2f}%", meeting, "Economics")
        b.plant(kalshi_ids[rates[4]], poly_id, "same", "rate_threshold")
        b.plant(kalshi_ids[rates[5]], poly_id, "different", "threshold")


def _filler(b: _Builder, platform: str, count: int) -> None:
    """Questions with no counterpart: one-off topics about invented people, places and companies."""
    topics = ["album sales", "film box office", "approval rating", "quarterly earnings", "tweet count",
              "space launch", "tennis final", "chess title", "heat record", "bridge opening"]
    for i in range(count):
        person, place = b.person(), b.place()
        topic = topics[i % len(topics)]
        close = START + dt.timedelta(days=int(b.rng.randrange(1, 700)))
        number = int(b.rng.randrange(1, 500))
        if platform == "kalshi":
            ticker = f"KXMISC{i}-{close:%y%b%d}".upper()
            b.kalshi(ticker, ticker.rsplit("-", 1)[0], f"Will {person} reach {number} in {place} {topic} by {_date_text(close)}?",
                     "", close, "Entertainment")
        else:
            b.poly(f"misc-{i}", f"{place} {topic}", f"{person} {topic} above {number} in {place}?", "", close, "Culture")


def generate_universe(kalshi_markets: int = 10_000, polymarket_markets: int = 40_000, seed: int = 7) -> Universe:
    """Generate about kalshi_markets + polymarket_markets markets (exact counts within a few percent).

    Shares of the Kalshi side: 30% crypto ladders, 24% games, 18% date ladders, 12% elections, 2%
    rate ladders, the rest one-off questions. Polymarket fills its larger count with player props,
    short crypto up/down markets and one-off questions.
    """
    b = _Builder(seed)
    scale = kalshi_markets / 10_000
    games = max(2, int(1200 * scale))
    props = max(1, int(polymarket_markets * 0.3 / games))
    _crypto(b, int(3000 * scale), max(int(4000 * scale), int(polymarket_markets * 0.15)))
    _games(b, games, props)
    _date_ladders(b, max(2, int(600 * scale)))
    _elections(b, max(2, int(150 * scale)), 8)
    _economy(b, max(2, int(24 * scale)))
    kalshi_so_far = sum(row["platform"] == "kalshi" for row in b.rows)
    poly_so_far = len(b.rows) - kalshi_so_far
    _filler(b, "kalshi", max(0, kalshi_markets - kalshi_so_far))
    _filler(b, "polymarket", max(0, polymarket_markets - poly_so_far))
    markets = coerce_frame(b.rows, MARKET_COLUMNS)
    truth = pd.DataFrame(b.truth, columns=["kalshi_id", "polymarket_id", "relation", "kind"]).astype("string")
    return Universe(markets=markets, truth=truth)
