"""Money: a Decimal amount with its ISO 4217 currency. Never a float."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from sqlalchemy import Numeric

#: column type for every amount (13 digits before the point, 2 after; 4 for unit costs)
Amount = Numeric(15, 2, asdecimal=True)
UnitCost = Numeric(15, 4, asdecimal=True)

_MINOR = {"JPY": 0, "KRW": 0, "HUF": 2, "BHD": 3, "KWD": 3}


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"not an ISO 4217 currency: {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())

    def quantize(self) -> "Money":
        exp = Decimal(1).scaleb(-_MINOR.get(self.currency, 2))
        return Money(self.amount.quantize(exp, rounding=ROUND_HALF_EVEN), self.currency)

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} with {getattr(other, 'currency', other)!r}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> "Money":
        if isinstance(factor, float):
            raise TypeError("multiply money by an int or a Decimal")
        return Money(self.amount * factor, self.currency)

    def __str__(self) -> str:
        return f"{self.quantize().amount} {self.currency}"
