"""Hedge math: walk two ask ladders together and find the size and profit of a locked-in payout.

A hedge buys one contract on each leg per $1 of guaranteed payout. Both legs fill the same number
of contracts. All arithmetic is Decimal, so results are exact to the cent and below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from mflib.fees import Fill, kalshi_taker_fee, polymarket_taker_fee

# Contract sizes at a target stake are rounded down to this step (Kalshi's `*_fp` sizes and
# Polymarket share sizes both have 2 decimals).
CONTRACT_STEP = Decimal("0.01")
# A level whose size the source did not give is priced as this many contracts.
UNKNOWN_SIZE_CONTRACTS = Decimal(1)
ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class LegTerms:
    """One leg of a hedge: the venue, the side bought, its ask ladder and its taker fee rate.

    For Kalshi, `fee_rate` is the fee rate times the series multiplier and the fee is rounded up
    to the cent once per order. For Polymarket, `fee_rate` is the market's rate (0 when fees are
    disabled) and the fee is rounded per level.
    """

    venue: str
    side: str
    levels: tuple[tuple[Decimal, Decimal | None], ...]
    fee_rate: Decimal

    @property
    def best_ask(self) -> Decimal | None:
        return self.levels[0][0] if self.levels else None

    @property
    def has_unknown_size(self) -> bool:
        return any(size is None for _, size in self.levels)

    def sized_levels(self) -> list[tuple[Decimal, Decimal]]:
        return [(price, UNKNOWN_SIZE_CONTRACTS if size is None else size) for price, size in self.levels]

    def unit_fee(self, price: Decimal) -> Decimal:
        """Fee of one contract at `price` before rounding."""
        return self.fee_rate * price * (1 - price)

    def fee(self, fills: Sequence[Fill]) -> Decimal:
        if self.venue == "kalshi":
            return kalshi_taker_fee(fills, rate=self.fee_rate, multiplier=ONE)
        return polymarket_taker_fee(fills, fee_rate=self.fee_rate)


@dataclass(frozen=True)
class Execution:
    """Both legs filled to `contracts`: what is paid, the fees and what is left of the $1 payouts."""

    contracts: Decimal
    first_fills: tuple[Fill, ...]
    second_fills: tuple[Fill, ...]
    first_cost: Decimal
    second_cost: Decimal
    first_fee: Decimal
    second_fee: Decimal

    @property
    def fees(self) -> Decimal:
        return self.first_fee + self.second_fee

    @property
    def cost(self) -> Decimal:
        """Total outlay: prices paid on both legs plus both fees."""
        return self.first_cost + self.second_cost + self.fees

    @property
    def net_profit(self) -> Decimal:
        return self.contracts - self.cost

    @property
    def profit_margin(self) -> Decimal | None:
        return self.net_profit / self.cost if self.cost > 0 else None

    @staticmethod
    def average(fills: Sequence[Fill]) -> Decimal | None:
        contracts = sum((size for _, size in fills), ZERO)
        return sum((price * size for price, size in fills), ZERO) / contracts if contracts else None


@dataclass(frozen=True)
class HedgeResult:
    """A priced direction: the gross gap, the largest profitable size and the trade at the stake."""

    gross_gap: Decimal | None
    executable: Execution
    stake: Execution
    stake_usd: Decimal
    unknown_size: bool

    @property
    def has_edge(self) -> bool:
        return self.executable.contracts > 0 and self.executable.net_profit > 0


def take_fills(levels: Sequence[tuple[Decimal, Decimal]], contracts: Decimal) -> tuple[Fill, ...]:
    """Return the (price, contracts) fills that buy `contracts` from the cheapest levels up."""
    fills = []
    remaining = contracts
    for price, size in levels:
        if remaining <= 0:
            break
        take = min(size, remaining)
        fills.append((price, take))
        remaining -= take
    if remaining > 0:
        raise ValueError(f"ladder contains fewer than {contracts} contracts")
    return tuple(fills)


def execute(first: LegTerms, second: LegTerms, contracts: Decimal) -> Execution:
    """Fill both legs to `contracts` and compute cost and fees."""
    first_fills = take_fills(first.sized_levels(), contracts) if contracts > 0 else ()
    second_fills = take_fills(second.sized_levels(), contracts) if contracts > 0 else ()
    return Execution(
        contracts=contracts,
        first_fills=first_fills,
        second_fills=second_fills,
        first_cost=sum((price * size for price, size in first_fills), ZERO),
        second_cost=sum((price * size for price, size in second_fills), ZERO),
        first_fee=first.fee(first_fills) if first_fills else ZERO,
        second_fee=second.fee(second_fills) if second_fills else ZERO,
    )


def _segments(first: LegTerms, second: LegTerms) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Merge both ladders into (first price, second price, contracts) segments, cheapest first."""
    a, b = first.sized_levels(), second.sized_levels()
    segments = []
    i = j = 0
    left_a = a[0][1] if a else ZERO
    left_b = b[0][1] if b else ZERO
    while i < len(a) and j < len(b):
        take = min(left_a, left_b)
        segments.append((a[i][0], b[j][0], take))
        left_a -= take
        left_b -= take
        if left_a == 0:
            i += 1
            left_a = a[i][1] if i < len(a) else ZERO
        if left_b == 0:
            j += 1
            left_b = b[j][1] if j < len(b) else ZERO
    return segments


def max_profitable_contracts(first: LegTerms, second: LegTerms) -> Decimal:
    """Return the largest size whose every marginal contract pays back more than it costs.

    Per contract, a segment costs p1 + p2 plus both unrounded fees. That cost rises with the
    price, because its slope 1 + rate x (1 - 2p) is positive for rates below 1. The ladders are
    sorted, so the marginal profit never rises and the walk stops at the first losing segment.
    The caller checks the total with rounded fees, because a cent of Kalshi rounding can still
    turn a tiny edge into a loss.
    NOTE: when that total check fails, no smaller size that happens to avoid the rounding is
    searched for, because such an edge is below one cent.
    """
    contracts = ZERO
    for price_a, price_b, size in _segments(first, second):
        marginal = ONE - price_a - price_b - first.unit_fee(price_a) - second.unit_fee(price_b)
        if marginal <= 0:
            break
        contracts += size
    return contracts


def contracts_for_stake(first: LegTerms, second: LegTerms, max_contracts: Decimal, stake_usd: Decimal) -> Decimal:
    """Return the largest size, in steps of CONTRACT_STEP, whose cost plus fees fits in `stake_usd`."""
    if max_contracts <= 0 or stake_usd <= 0:
        return ZERO
    contracts = ZERO
    budget = stake_usd
    filled = ZERO
    for price_a, price_b, size in _segments(first, second):
        size = min(size, max_contracts - filled)
        if size <= 0:
            break
        unit = price_a + price_b + first.unit_fee(price_a) + second.unit_fee(price_b)
        take = min(size, budget / unit)
        contracts += take
        budget -= take * unit
        filled += size
        if take < size:
            break
    if contracts >= max_contracts:
        contracts = max_contracts
    else:
        contracts = contracts.quantize(CONTRACT_STEP, rounding=ROUND_DOWN)
    # Rounded fees can push the total a little over the stake, so step down until it fits.
    while contracts > 0 and execute(first, second, contracts).cost > stake_usd:
        contracts = (contracts - CONTRACT_STEP).quantize(CONTRACT_STEP, rounding=ROUND_DOWN)
    return max(contracts, ZERO)


def price_hedge(first: LegTerms, second: LegTerms, stake_usd: Decimal) -> HedgeResult:
    """Price one direction: gross gap at the best asks, the executable size and the stake trade."""
    if not first.levels or not second.levels:
        empty = execute(first, second, ZERO)
        return HedgeResult(None, empty, empty, stake_usd, first.has_unknown_size or second.has_unknown_size)
    gross_gap = ONE - first.levels[0][0] - second.levels[0][0]
    contracts = max_profitable_contracts(first, second)
    executable = execute(first, second, contracts)
    if contracts > 0 and executable.net_profit <= 0:
        executable = execute(first, second, ZERO)
    stake_contracts = contracts_for_stake(first, second, executable.contracts, stake_usd)
    stake = execute(first, second, stake_contracts)
    return HedgeResult(gross_gap, executable, stake, stake_usd, first.has_unknown_size or second.has_unknown_size)
