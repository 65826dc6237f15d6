"""Tables and charts of the price notebook."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from mflib.books import Quotes

DISPLAY_COLUMNS = {
    "pair_id": "pair",
    "direction": "direction",
    "executable_contracts": "contracts",
    "cost_usd": "cost (USD)",
    "fees_kalshi_usd": "Kalshi fee",
    "fees_polymarket_usd": "Polymarket fee",
    "net_profit_usd": "net profit (USD)",
    "profit_margin": "net margin",
    "stake_net_profit_usd": "net at stake (USD)",
    "annualized_return": "annualized",
    "confidence": "confidence",
    "risk_flags": "risk flags",
}


def opportunities_view(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Return the opportunities with readable column names, in the order given."""
    return opportunities[list(DISPLAY_COLUMNS)].rename(columns=DISPLAY_COLUMNS)


def quote_sources(quotes: Quotes) -> pd.DataFrame:
    """Count market sides by where their asks came from (book, replay, market_top, none)."""
    books = quotes.books_frame()
    if books.empty:
        return pd.DataFrame(columns=["platform", "source", "sides"])
    return books.groupby(["platform", "source"]).size().reset_index(name="sides")


def edge_figure(evaluated: pd.DataFrame) -> go.Figure:
    """Chart the net profit per contract after fees against the gross gap of every priced direction."""
    title = "Net edge per contract after fees against the gross gap (USD)"
    if evaluated.empty:
        figure = go.Figure()
        figure.update_layout(title=title, annotations=[{"text": "No direction was priced in this run.",
                                                         "showarrow": False, "xref": "paper", "yref": "paper",
                                                         "x": 0.5, "y": 0.5}])
        return figure
    plot = evaluated.assign(edge=evaluated["has_edge"].map({True: "edge after fees", False: "no edge"}))
    figure = px.scatter(plot, x="gross_gap", y="net_per_contract", color="edge", hover_data=["pair_id", "direction", "executable_contracts"],
                        labels={"gross_gap": "gross gap (1 - both best asks)", "net_per_contract": "net per contract"},
                        title=title)
    low = float(min(plot["gross_gap"].min(), plot["net_per_contract"].min(), 0.0))
    high = float(max(plot["gross_gap"].max(), plot["net_per_contract"].max(), 0.01))
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dot"}, name="no fees"))
    figure.add_hline(y=0, line_width=1)
    return figure
