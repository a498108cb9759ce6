"""Source mappings: a lender's own layout read as one of our contracts, without code.

A mapping is a YAML file, one per source, that the lender commits beside its exports:

    contract: month_end_tape          # or a ledger of lib/contract.py (loans, repayments, ...)
    columns: {loan_id: LOAN_NO}       # contract column: the source's column
    constants: {asset_class: credit_card}
    codes: {status: {A: active, P: paid_off}}   # source value: contract value (others unchanged)
    floor: {balance: 0}               # a value below it becomes it
    month_index: {column: MONTH_NO, anchor: 2005-09-30}   # tapes: month_end = the end of the month
                                      # that lies MONTH_NO months after the anchor's
    wide_months:                      # tapes: one source row holds several month ends
      - {month_end: 2005-08-31, months_past_due: PAY_2, balance: BILL_AMT2}

A contract column not mapped is read from the source column of the same name. A mapping is
checked when it is read (and against the source's columns when it is applied); a bad one is
refused with its file, key and reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .contract import Ledger

KEYS = ("contract", "columns", "constants", "codes", "floor", "month_index", "wide_months")


class MappingError(ValueError):
    def __init__(self, path: Path | str, key: str, reason: str):
        super().__init__(f"{path}: {key}: {reason}")


@dataclass(frozen=True)
class Mapping:
    path: str
    contract: Ledger
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str | None] = field(default_factory=dict)  # None: empty in every row
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)
    month_index: tuple[str, dt.date] | None = None
    wide_months: tuple[dict[str, str], ...] = ()  # per month end: contract column -> source column
    is_identity: bool = False  # no mapping file: the source is in the contract's own layout

    @classmethod
    def identity(cls, contract: Ledger) -> Mapping:
        return cls(path=f"(the {contract.name} contract)", contract=contract, is_identity=True)

    def bind(self, present: list[str]) -> Mapping:
        """The mapping for a source with these columns: an optional contract column that the mapping
        does not name and the source lacks is empty (in the contract's own layout only where the
        contract allows it, as a tape does)."""
        if self.is_identity and not self.contract.nullable_columns_optional:
            return self
        absent = {c.name: None for c in self.contract.columns
                  if c.nullable and c.name not in self.constants and c.name not in self.columns
                  and c.name not in present and not any(c.name in group for group in self.wide_months)}
        return dataclasses.replace(self, constants={**self.constants, **absent}) if absent else self

    def _groups(self) -> list[dict[str, str]]:
        """Per output row of a source row: contract column -> source column (or a month end literal)."""
        plain = {c: self.columns.get(c, c) for c in self.contract.column_names if c not in self.constants}
        if self.month_index:
            plain.pop("month_end", None)
        if not self.wide_months:
            return [plain]
        return [{**{c: s for c, s in plain.items() if c not in group}, **group} for group in self.wide_months]

    def source_columns(self) -> list[str]:
        found = {s for group in self._groups() for c, s in group.items() if c != "month_end" or not self.wide_months}
        if self.month_index:
            found.add(self.month_index[0])
        return sorted(found)

    def shown_sql(self, column: str, part: str) -> str:
        """SQL naming the column of a problem for messages: the contract column, and the source column
        behind it where the mapping reads another (`part`: which month of a wide source row)."""
        cases = [f"when {part} = {i} and {column} = {_literal(c)} then {_literal(f'{c} (source {s})')}"
                 for i, group in enumerate(self._groups()) for c, s in group.items()
                 if s != c and not (c == "month_end" and self.wide_months)]
        return f"case {' '.join(cases)} else {column} end" if cases else column

    def check_source(self, source_file: Path | str, present: list[str]) -> None:
        missing = [s for s in self.source_columns() if s not in present]
        if missing:
            where = next((k for k, v in self.columns.items() if v == missing[0]), None)
            key = f"columns.{where}" if where else ("month_index.column" if self.month_index and
                                                    missing[0] == self.month_index[0] else "wide_months")
            raise MappingError(self.path, key, f"column {', '.join(missing)} is not in {source_file} "
                                               f"(it has {', '.join(present[:20])})")

    def select_sql(self, relation: str) -> str:
        """Contract columns (still as read: the loader's checks cast them), plus _source_file, _source_row
        and _source_part (which month end of a wide source row), from a relation of the source."""
        selects = []
        for part, group in enumerate(self._groups()):
            exprs = []
            for c in self.contract.column_names:
                if c in self.constants:
                    value = "null" if self.constants[c] is None else _literal(self.constants[c])
                elif c == "month_end" and self.month_index:
                    column, anchor = self.month_index
                    value = (f"cast(last_day(date '{anchor.replace(day=1)}' + to_months(try_cast("
                             f"{_quote(column)} as integer))) as varchar)")
                elif c == "month_end" and self.wide_months:
                    value = _literal(group["month_end"])
                else:
                    value = _quote(group[c])  # as read: text from CSV, typed from Parquet
                if c in self.codes:
                    cases = " ".join(f"when {_literal(k)} then {_literal(v)}" for k, v in self.codes[c].items())
                    value = f"case cast({value} as varchar) {cases} else cast({value} as varchar) end"
                if c in self.floor:
                    value = (f"case when try_cast({value} as double) < {self.floor[c]} "
                             f"then {_literal(_number(self.floor[c]))} else cast({value} as varchar) end")
                exprs.append(f"{value} as {c}")
            selects.append(f"select {', '.join(exprs)}, _source_file, _source_row, {part} as _source_part "
                           f"from {relation}")
        return " union all ".join(selects)


def read_mapping(path: Path, contracts: dict[str, Ledger]) -> Mapping:
    """Read and check a mapping file against the contracts it may name."""
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(path, "(file)", f"not a readable YAML file ({exc.__class__.__name__})") from None
    if not isinstance(spec, dict):
        raise MappingError(path, "(file)", "must be a YAML mapping of keys to values")
    for key in spec:
        if key not in KEYS:
            raise MappingError(path, str(key), f"unknown key; a mapping has {', '.join(KEYS)}")
    name = spec.get("contract")
    if name not in contracts:
        raise MappingError(path, "contract", f"{name!r} is not one of {', '.join(contracts)}")
    contract = contracts[name]
    known = set(contract.column_names)

    def columns_of(key: str) -> dict:
        value = spec.get(key) or {}
        if not isinstance(value, dict):
            raise MappingError(path, key, "must map contract columns to values")
        for column in value:
            if column not in known:
                raise MappingError(path, f"{key}.{column}", f"not a column of {name} ({', '.join(contract.column_names)})")
        return value

    columns = {c: str(s) for c, s in columns_of("columns").items()}
    constants = {c: str(v) for c, v in columns_of("constants").items()}
    twice = sorted(set(columns) & set(constants))
    if twice:
        raise MappingError(path, f"constants.{twice[0]}", "also mapped under columns: give one source")
    codes = {}
    for column, table in columns_of("codes").items():
        if not isinstance(table, dict) or not table:
            raise MappingError(path, f"codes.{column}", "must map source values to contract values")
        codes[column] = {str(k): str(v) for k, v in table.items()}
    floor = {}
    for column, value in columns_of("floor").items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MappingError(path, f"floor.{column}", f"{value!r} is not a number")
        floor[column] = value
    month_index = None
    wide: list[dict[str, str]] = []
    if ("month_index" in spec or "wide_months" in spec) and "month_end" not in known:
        raise MappingError(path, "month_index" if "month_index" in spec else "wide_months",
                           f"only for a contract with month_end, not {name}")
    if "month_index" in spec:
        index = spec["month_index"]
        if not isinstance(index, dict) or set(index) != {"column", "anchor"}:
            raise MappingError(path, "month_index", "needs exactly column and anchor")
        month_index = (str(index["column"]), _date(path, "month_index.anchor", index["anchor"]))
    if "wide_months" in spec:
        if month_index or not isinstance(spec["wide_months"], list) or not spec["wide_months"]:
            raise MappingError(path, "wide_months", "must be a list of month ends (and not with month_index)")
        for i, group in enumerate(spec["wide_months"]):
            if not isinstance(group, dict) or "month_end" not in group:
                raise MappingError(path, f"wide_months[{i}]", "needs a month_end and the columns of that month")
            for column in group:
                if column not in known:
                    raise MappingError(path, f"wide_months[{i}].{column}", f"not a column of {name}")
            wide.append({c: (_date(path, f"wide_months[{i}].month_end", s).isoformat() if c == "month_end"
                             else str(s)) for c, s in group.items()})
    if "month_end" in columns and (month_index or wide):
        raise MappingError(path, "columns.month_end", "month_end comes from month_index or wide_months here")
    return Mapping(str(path), contract, columns, constants, codes, floor, month_index, tuple(wide))


def _date(path, key: str, value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise MappingError(path, key, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
