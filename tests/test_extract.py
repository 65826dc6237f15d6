"""Unit tests of the text extractors: dates, tickers, windows, thresholds, entities, wording."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from mflib import extract

D = dt.date


@pytest.mark.parametrize(
    ("text", "ref_year", "kind", "end"),
    [
        ("Will the ceasefire hold before April 1, 2026?", None, "before", D(2026, 3, 31)),
        ("Will the ceasefire hold by March 31, 2026?", None, "by", D(2026, 3, 31)),
        ("Will the mayor resign by June 30?", 2027, "by", D(2027, 6, 30)),
        ("Will the port close in 2026?", None, "in", D(2026, 12, 31)),
        ("Will the port close before 2027?", None, "before", D(2026, 12, 31)),
        ("Will the port close before Jan 2027?", None, "before", D(2026, 12, 31)),
        ("Will the port close before May 2026?", None, "before", D(2026, 4, 30)),
        ("Will the port close by end of 2026?", None, "by", D(2026, 12, 31)),
        ("Will the bill pass this year?", 2026, "in", D(2026, 12, 31)),
        ("Will the rate be 3% on Jul 1, 2026?", None, "on", D(2026, 7, 1)),
        ("Will the envoy leave before 2026-05-01T14:00:00.000Z?", None, "before", D(2026, 4, 30)),
        ("Will the envoy leave before 1 May 2026?", None, "before", D(2026, 4, 30)),
    ],
)
def test_extract_window_end(text, ref_year, kind, end):
    window = extract.parse_window(text, ref_year)
    assert window["kind"] == kind
    assert window["end"] == end


def test_extract_window_before_and_by_day_agree():
    before = extract.parse_window("before April 1, 2026")
    by = extract.parse_window("by March 31, 2026")
    assert before["end"] == by["end"]


def test_extract_window_in_year_has_start():
    window = extract.parse_window("Will it happen in 2026?")
    assert window["start"] == D(2026, 1, 1)


def test_extract_window_month_range():
    window = extract.parse_window("rating above 40% during Nov 2025 to Oct 2026")
    assert window["start"] == D(2025, 11, 1)
    assert window["end"] == D(2026, 10, 31)


def test_extract_window_without_year_keeps_month_day():
    window = extract.parse_window("Will the senator resign by April 30?")
    assert window["end"] is None
    assert window["md"] == "04-30"


def test_extract_window_this_year_without_reference():
    window = extract.parse_window("Will the bill become law this year?")
    assert window["md"] == "12-31"


def test_extract_window_none_found():
    assert extract.parse_window("Will the comet be visible?")["kind"] == ""


def test_extract_window_season():
    window = extract.parse_window("Will the Hornets win the 2025-26 title?")
    assert window["kind"] == "season"
    assert window["end"] == D(2026, 6, 30)


@pytest.mark.parametrize(
    ("ticker", "key", "value"),
    [
        ("KXSTRIKE-26MAY01-ABCD", "date", D(2026, 5, 1)),
        ("KXSTRIKE-26MAY01-ABCD", "codes", ["ABCD"]),
        ("KXSENATE-27JAN", "year", 2027),
        ("KXSENATE-27JAN", "month", 1),
        ("KXSUMMIT-26", "year", 2026),
        ("KXRATE-26MAR-T4.25", "strike", {"kind": "T", "value": 4.25}),
        ("KXTEMP-26MAR05-B58.5", "strike", {"kind": "B", "value": 58.5}),
        ("KXTRIP-26-APR17", "date", D(2026, 4, 17)),
        ("KXNBAGAME-26FEB02CHIMIA-MIA", "game_code", "CHIMIA"),
        ("KXNBAGAME-26FEB02CHIMIA-MIA", "date", D(2026, 2, 2)),
        ("KXTARIFF-26JUL01-25", "numbers", [25.0]),
    ],
)
def test_extract_ticker_codes(ticker, key, value):
    assert extract.parse_kalshi_ticker(ticker)[key] == value


def test_extract_ticker_series():
    assert extract.parse_kalshi_ticker("KXSTRIKE-26MAY01-ABCD")["series"] == "KXSTRIKE"


def test_extract_ticker_empty():
    assert extract.parse_kalshi_ticker("")["date"] is None


@pytest.mark.parametrize(
    ("text", "direction", "value"),
    [
        ("Will the rate be above 4.25%?", "gt", 4.25),
        ("Will it score at least 58?", "ge", 58.0),
        ("Will there be 6 or more storms?", "ge", 6.0),
        ("Will there be >= 6 storms?", "ge", 6.0),
        ("Will turnout be below 35%?", "lt", 35.0),
        ("Will turnout be at most 40%?", "le", 40.0),
        ("Will the index hit 47%?", "ge", 47.0),
        ("Will sales exceed $1,200?", "gt", 1200.0),
        ("Will the fund pass $2.5 billion?", "eq", 2.5e9),
    ],
)
def test_extract_threshold_direction(text, direction, value):
    items = extract.parse_thresholds(text)
    assert items[0]["direction"] == direction
    assert items[0]["value"] == pytest.approx(value)


@pytest.mark.parametrize("text", ["Will it be between 58.0 and 58.9?", "Will it land in 58.0-58.9?"])
def test_extract_threshold_range(text):
    item = extract.parse_thresholds(text)[0]
    assert item["direction"] == "range"
    assert item["low"] == 58.0
    assert item["high"] == 58.9


def test_extract_threshold_skips_years_and_days():
    assert extract.parse_thresholds("Will the summit happen before March 31, 2026?") == []


def test_extract_threshold_from_strike_bracket():
    item = extract.thresholds_from_strike({"kind": "B", "value": 58.5})[0]
    assert item["direction"] == "range"
    assert item["low"] == 58.0


def test_extract_threshold_from_strike_open():
    item = extract.thresholds_from_strike({"kind": "T", "value": 4.25})[0]
    assert item["value"] == 4.25


def test_extract_entities_people_and_places():
    entities = extract.find_entities("Will the United States recognize Maria Lopez as leader of Chile?")
    assert "maria lopez" in entities
    assert "us" in entities
    assert "chile" in entities


def test_extract_places_aliases():
    assert extract.find_places("Will the U.S. and America's allies meet?") == ["us"]


def test_extract_places_longer_name_wins():
    assert extract.find_places("Will the governor of New Mexico resign?") == ["new mexico"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Will no one leave the council before 2027?", 1),
        ("Will anyone leave the council before 2027?", 0),
        ("Will the chair remain in office through 2026?", 1),
        ("Will the governor not sign the bill?", 1),
    ],
)
def test_extract_complement_count(text, count):
    assert extract.complement_count(text) == count


def test_extract_event_classes():
    assert extract.event_classes("Will the envoy visit Peru?") == ["visit"]
    assert extract.event_classes("Will the envoy enter Peru?") == ["visit"]


def test_extract_outcomes_json_string():
    assert extract.parse_outcomes('["Heat", "Bulls"]') == ["Heat", "Bulls"]


def test_extract_outcomes_empty():
    assert extract.parse_outcomes(None) == []


def test_extract_normalize_text():
    assert extract.normalize_text("Will Zoë's team hit 1,000 pts — or 5-7?") == "will zoe team hit 1000 pts or 5 to 7"


def _markets() -> pd.DataFrame:
    return pd.DataFrame([
        {"platform": "kalshi", "market_id": "KXVISITPERU-26JUL01-AMEN", "title": "Will Ana Mendes visit Peru before Jul 1, 2026?",
         "subtitle": "Ana Mendes", "event_title": "Visits to Peru", "rules": "", "close_time": "2026-07-01T14:00:00Z"},
        {"platform": "polymarket", "market_id": "0xabc", "title": "Will Ana Mendes enter Peru by June 30?", "subtitle": "",
         "event_title": "", "rules": "", "close_time": "2026-06-30T00:00:00Z", "outcome_yes": "Yes", "outcome_no": "No"},
        {"platform": "kalshi", "market_id": "KXNBAGAME-26FEB02CHIMIA-MIA", "title": "Chicago at Miami Winner?",
         "subtitle": "Miami", "event_title": "Chicago at Miami", "rules": None, "close_time": None},
        {"platform": "polymarket", "market_id": "0xdef", "title": "Bulls vs. Heat", "subtitle": None, "event_title": None,
         "rules": None, "close_time": None, "outcome_yes": "Bulls", "outcome_no": "Heat"},
    ], index=[10, 11, 12, 13])


def test_extract_market_facts_keeps_index():
    facts = extract.market_facts(_markets())
    assert list(facts.index) == [10, 11, 12, 13]


def test_extract_market_facts_deadlines():
    facts = extract.market_facts(_markets())
    assert facts.loc[10, "deadline"] == D(2026, 6, 30)
    assert facts.loc[11, "deadline"] == D(2026, 6, 30)


def test_extract_market_facts_json_columns():
    facts = extract.market_facts(_markets())
    assert "ana mendes" in json.loads(facts.loc[10, "entities"])
    assert json.loads(facts.loc[10, "ticker_codes"])["date"] == "2026-07-01"
    assert json.loads(facts.loc[10, "thresholds"]) == []


def test_extract_market_facts_teams():
    facts = extract.market_facts(_markets())
    assert facts.loc[12, "team"] == "heat"
    assert json.loads(facts.loc[12, "game_teams"]) == ["bulls", "heat"]
    assert facts.loc[13, "team"] == "bulls"


def test_extract_market_facts_missing_columns():
    facts = extract.market_facts(pd.DataFrame({"title": ["Will it rain in 2026?"]}))
    assert facts.loc[0, "deadline"] == D(2026, 12, 31)


def test_extract_market_facts_speed():
    markets = pd.concat([_markets()] * 2500, ignore_index=True)
    markets["title"] = markets["title"] + " #" + markets.index.astype(str)
    facts = extract.market_facts(markets)
    assert len(facts) == 10_000


def test_extract_window_quarter():
    window = extract.parse_window("Will real GDP growth in Q1 2027 be above 2.0%?")
    assert window["start"] == D(2027, 1, 1)
    assert window["end"] == D(2027, 3, 31)


@pytest.mark.parametrize("subtitle", [">2.0%", "Above 2.0%", "Yes", "Before April 1, 2026"])
def test_extract_subtitle_not_informative(subtitle):
    assert not extract.subtitle_is_informative(subtitle)


def test_extract_subtitle_informative_name():
    assert extract.subtitle_is_informative("Ana Mendes")


def test_extract_stage_events_whole_words():
    assert extract.event_classes("Will Peru qualify for the Cup Round of 16?") == ["advance", "stage_round_of_16"]
    assert extract.event_classes("Will Peru reach the Cup Final?") == ["advance", "stage_final"]
    assert "advance" not in extract.event_classes("New limits on advanced chips become law?")


def test_extract_team_nicknames_from_cities():
    from mflib import teams

    assert teams.team_nicknames("Boston at Denver Winner? KXNBAGAME-27JAN15BOSDEN") == ["celtics", "nuggets"]
    assert teams.team_nicknames("Boston at Denver Winner?") == []
    assert teams.team_nicknames("Celtics vs. Nuggets") == ["celtics", "nuggets"]
    assert teams.team_nicknames("Will the Fed cut rates?") == []
    assert teams.team_nicknames("Will the Detroit pro football team win?") == []
    assert teams.team_nicknames("Detroit at Boston NBA game") == ["pistons", "celtics"]


def test_extract_leagues_named():
    assert extract.find_leagues("Pro Football NFC Championship Winner?") == ["american_football"]
    assert extract.find_leagues("Will the Capitals win the Stanley Cup?") == ["hockey"]
    assert extract.find_leagues("Will the Fed cut rates?") == []
