"""Synthetic demo book: daily landing folders that follow the ledger contract.

Delinquency follows a known month-end transition matrix per asset class (the
ground truth, written to <out>/_truth/ for tests). Each month every open loan
draws its next month-end state; the payments that month are then whatever
makes the ledgers show exactly that state:

- a loan m installments behind that moves to bucket j pays m + 1 - j
  installments (oldest first), so "stay" is one installment, "roll" is none,
  "cure" is all arrears plus the current one;
- paid_off is a prepayment of all remaining principal;
- written_off is a write-off of the remaining principal late in the month.

Installments fall due on a day between the 4th and the 20th, which makes the
month-end bucket equal to the number of missed installments for every
calendar (checked in tests/unit/test_generator.py). On top of that the
payments carry realistic noise that leaves month ends intact: early, late
and split payments, and reversals paid again within the month.

Collection is planted too (truth in <out>/_truth/planted_collection.parquet and
borrower_types.parquet): each loan is willing or not and able or not; the able
declare an income of 4-8 installments, the others 0.8-2; the willing answer
calls more often and promise only when they will pay (kept, or one in five
partial), the unwilling only when they will not (broken); collectors climb a
pressure ladder contact by contact, and the lax ones sometimes repeat or step
back (a planted lapse). Warning events come mostly just before a first missed
installment.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from dagster_project.lib.contract import ASSET_CLASSES, BORROWER_EVENT_TYPES, LEDGERS

STATES = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+", "paid_off", "written_off")
PAID_OFF, WRITTEN_OFF = 8, 9
OPEN_STATES = 8
BUCKET_MIN_DPD = (0, 1, 31, 61, 91, 121, 151, 181)

# asset class: share of loans, risk multiplier, terms (months), principal range, rate range
ASSET_PROFILES = {
    "car": (0.22, 0.8, (36, 48, 60), (8_000, 60_000), (0.05, 0.10)),
    "mortgage": (0.05, 0.35, (120, 180, 240), (80_000, 600_000), (0.03, 0.055)),
    "student": (0.10, 1.0, (60, 84), (5_000, 40_000), (0.04, 0.07)),
    "guaranteed": (0.13, 0.9, (24, 36), (10_000, 100_000), (0.06, 0.11)),
    "consumer": (0.35, 1.5, (24, 36), (1_000, 20_000), (0.10, 0.24)),
    "sme": (0.15, 1.3, (24, 36, 60), (20_000, 300_000), (0.06, 0.14)),
}
assert tuple(ASSET_PROFILES) == ASSET_CLASSES

# share of a written-off amount recovered afterwards, on average, and within how many months
RECOVERY_RATE = {"car": 0.45, "mortgage": 0.70, "student": 0.10, "guaranteed": 0.50, "consumer": 0.15, "sme": 0.35}
WORKOUT_MONTHS = 6
ROLL_FORWARD = (0.03, 0.30, 0.50, 0.65, 0.75, 0.80, 0.85)  # from M0..M6 at risk 1.0
PREPAY = (0.008, 0.004, 0.002, 0.001, 0.001, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class BookConfig:
    n_loans: int = 20_000
    months: int = 18
    start: str = "2025-01-01"  # first day of the first month
    seed: int = 7
    write_off_dpd: int = 180  # loans past this many days can be written off
    file_format: str = "parquet"  # or "csv"
    n_collectors: int = 24
    origination_months: int | None = None  # loans disburse over this many first months; default all but the last


def transition_matrix(cfg: BookConfig) -> np.ndarray:
    """Ground truth: [asset class, from state (open), to state] month-end transition probabilities."""
    matrix = np.zeros((len(ASSET_CLASSES), OPEN_STATES, len(STATES)))
    for a, name in enumerate(ASSET_CLASSES):
        risk = ASSET_PROFILES[name][1]
        for s in range(OPEN_STATES):
            row = matrix[a, s]
            row[PAID_OFF] = PREPAY[s]
            eligible = BUCKET_MIN_DPD[s] > cfg.write_off_dpd
            if s < 7:
                roll = min(0.95, ROLL_FORWARD[s] * (risk if s == 0 else risk**0.5))
                if eligible:
                    row[WRITTEN_OFF] = 0.4 * roll
                    roll -= row[WRITTEN_OFF]
                row[s + 1] = roll
            else:
                row[WRITTEN_OFF] = min(0.9, 0.45 * risk**0.5) if eligible else 0.0
                row[7] = 0.0  # set from the remainder below
            rest = 1.0 - row.sum()
            if s == 0:
                row[0] = rest
            elif s == 7:
                row[0] += 0.08 * rest
                row[7] = 0.92 * rest
            else:
                row[0] += 0.6 * rest
                row[s] += 0.25 * rest
                row[s - 1] += 0.15 * rest
    assert np.allclose(matrix.sum(axis=2), 1.0)
    return matrix


class _Progress:
    def __init__(self, label: str, total: int):
        self.label, self.total, self.t0 = label, total, time.monotonic()

    def step(self, done: int, extra: str = "") -> None:
        elapsed = time.monotonic() - self.t0
        print(f"  {self.label}: {done}/{self.total} {extra} ({elapsed:.0f}s)", file=sys.stderr, flush=True)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _month_days(months: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Dates (datetime64[D]) for month indexes since 1970-01 and day-of-month."""
    return months.astype("datetime64[M]").astype("datetime64[D]") + (days - 1).astype("timedelta64[D]")


def _days_in_month(months: np.ndarray) -> np.ndarray:
    starts = months.astype("datetime64[M]")
    return ((starts + 1).astype("datetime64[D]") - starts.astype("datetime64[D]")).astype(int)


def _money(x: np.ndarray) -> np.ndarray:
    return np.round(x, 2)


class _Ledgers:
    """Collects rows per ledger as column arrays, month by month."""

    def __init__(self):
        self.parts: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in LEDGERS}

    def add(self, ledger: str, **columns) -> None:
        lengths = {len(v) for v in columns.values()}
        assert len(lengths) == 1, (ledger, lengths)
        if lengths.pop():
            self.parts[ledger].append(columns)

    def concat(self, ledger: str) -> dict[str, np.ndarray]:
        parts = self.parts[ledger]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


LADDER = ("call", "sms", "bureau_report", "letter", "lawyer_letter", "visit", "lawsuit", "enforcement")
ROUND_GAP_DAYS = 31  # a loan not contacted for longer starts a new round at the bottom of the ladder


class _CollectorTraits:
    def __init__(self, rng: np.random.Generator, n: int):
        self.contact = rng.uniform(0.35, 0.75, n)  # chance a call connects
        self.persuasion = rng.uniform(0.2, 0.7, n)  # chance a willing payer promises
        self.bluffed = rng.uniform(0.3, 0.7, n)  # chance an unwilling non-payer promises
        self.lapse = np.where(np.arange(n) % 3 == 0, 0.3, 0.0)  # every third collector skips escalating


class _LadderState:
    """Per loan: the rung its next action uses, the rung and date of its last contact in the round."""

    def __init__(self, n: int):
        self.rung = np.zeros(n, dtype=np.int64)
        self.last_rung = np.full(n, -1)
        self.last_contact = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")


def _collection_month(rng, month, loans, bucket, pays, pay_amount, installment, willing, traits, ladder):
    """One month of collection on the delinquent loans.

    Calls are retried until one reaches the borrower; every contact (a call that reached him, or any
    other means, delivered) moves the loan one rung up the LADDER, except when a lax collector repeats
    the rung or steps back: the next contact is then a planted lapse. One promise at most per loan and
    month, on a call or visit that reached him: a willing payer's is kept (one in five promises half as much
    again: partial), an unwilling non-payer's is broken.
    Returns the action rows and, for the promises of payers, (loans, first day, last day of the window).
    """
    days_in_month = int(_days_in_month(np.array([month]))[0])
    top = len(LADDER) - 1
    n_actions = np.minimum(3 + bucket, 9)
    collector = (loans * 7 + month) % traits.contact.size
    promised = np.zeros(loans.size, bool)
    parts, windows = [], []
    for step in range(int(n_actions.max(initial=0))):
        on = np.flatnonzero(n_actions > step)
        loan, c, b, paying, will = loans[on], collector[on], bucket[on], pays[on], willing[loans[on]]
        day_of_month = np.minimum(1 + 3 * step + rng.integers(0, 3, on.size), 27)
        day = _month_days(np.full(on.size, month), day_of_month)
        since = (day - ladder.last_contact[loan]).astype(int)
        new_round = np.isnat(ladder.last_contact[loan]) | (since > ROUND_GAP_DAYS)
        rung = np.where(new_round, 0, ladder.rung[loan])
        last_rung = np.where(new_round, -1, ladder.last_rung[loan])
        is_call = rung == 0
        connected = is_call & (rng.random(on.size) < traits.contact[c] * np.where(will, 1.0, 0.4))
        reached = connected & (rng.random(on.size) < np.where(will, 0.85, 0.6))
        is_visit = rung == LADDER.index("visit")  # a field visit meets the borrower more often than not
        reached |= is_visit & (rng.random(on.size) < np.where(will, 0.8, 0.5))
        outcome = np.where(is_call, np.where(connected, "connected", np.where(
            rng.random(on.size) < 0.85, "no_answer", "wrong_number")), "delivered")
        contact = reached | ~is_call
        lapse = contact & (last_rung >= 0) & (rung <= last_rung) & ~((rung == top) & (last_rung == top))
        promise = reached & ~promised[on] & (will == paying) & (
            rng.random(on.size) < np.where(will, traits.persuasion[c], traits.bluffed[c]))
        promised[on] |= promise
        partial = rng.random(on.size) < 0.2
        amount = np.where(paying, pay_amount[loan] * np.where(partial, 1.5, 1.0), installment[loan] * (1 + b) * 0.5)
        promise_day = np.minimum(day_of_month + rng.integers(2, 8, on.size), days_in_month)
        parts.append({
            "loan": loan, "action_date": day, "action_type": np.array(LADDER)[rung], "collector": c,
            "outcome": outcome, "reached_borrower": reached,
            "promise_amount": np.where(promise, _money(amount), np.nan),
            "promise_date": np.where(promise, _month_days(np.full(on.size, month), promise_day), np.datetime64("NaT")),
            "planted_promise": np.where(~promise, "", np.where(~paying, "broken", np.where(partial, "partial", "kept"))),
            "planted_lapse": lapse,
        })
        kept = promise & paying
        windows.append((loan[kept], day_of_month[kept], promise_day[kept]))
        slack = contact & (rng.random(on.size) < traits.lapse[c])
        climbed = np.where(slack, np.maximum(rung - rng.integers(0, 2, on.size), 0), np.minimum(rung + 1, top))
        ladder.rung[loan] = np.where(contact, climbed, rung)
        ladder.last_rung[loan] = np.where(contact, rung, last_rung)
        ladder.last_contact[loan] = np.where(contact, day, ladder.last_contact[loan])
    actions = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return actions, tuple(np.concatenate([w[i] for w in windows]) if windows else np.array([], int) for i in range(3))


def generate_book(cfg: BookConfig, out: Path) -> dict:
    """Write landing folders <out>/<YYYY-MM-DD>/<ledger>.<fmt> and <out>/_truth/. Returns a summary."""
    rng = np.random.default_rng(cfg.seed)
    out = Path(out)
    n = cfg.n_loans
    start_month = np.datetime64(cfg.start, "M")
    if np.datetime64(cfg.start, "D") != start_month.astype("datetime64[D]"):
        raise ValueError(f"start must be the first day of a month, got {cfg.start}")
    month0 = start_month.astype(int)
    t0 = time.monotonic()
    print(f"Generating {n:,} loans over {cfg.months} months from {cfg.start} into {out}", file=sys.stderr)

    # --- loans -----------------------------------------------------------------------------
    shares = np.array([p[0] for p in ASSET_PROFILES.values()])
    asset = rng.choice(len(ASSET_CLASSES), size=n, p=shares / shares.sum())
    # by default a loan's first installment falls due inside the window
    origination_months = cfg.origination_months or max(1, cfg.months - 1)
    orig_month = month0 + rng.integers(0, origination_months, size=n)
    orig_day = rng.integers(1, _days_in_month(orig_month) + 1)
    orig_date = _month_days(orig_month, orig_day)
    order = np.argsort(orig_date, kind="stable")  # loan ids in disbursement order
    asset, orig_month, orig_date = asset[order], orig_month[order], orig_date[order]
    due_day = rng.integers(4, 21, size=n)
    term = np.empty(n, dtype=np.int64)
    principal = np.empty(n)
    rate = np.empty(n)
    for a, (_, _, terms, (lo, hi), (rlo, rhi)) in enumerate(ASSET_PROFILES.values()):
        idx = np.flatnonzero(asset == a)
        term[idx] = rng.choice(terms, size=idx.size)
        principal[idx] = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi), idx.size)), -2)
        rate[idx] = np.round(rng.uniform(rlo, rhi, idx.size), 4)
    first_due_month = orig_month + 1
    maturity = _month_days(first_due_month + term - 1, due_day)
    loan_ids = _ids("L", np.arange(1, n + 1), 8)
    borrower_no = rng.integers(1, int(n * 0.9) + 2, size=n)
    borrower_ids = _ids("B", borrower_no, 8)
    has_guarantor = (asset == ASSET_CLASSES.index("guaranteed")) | (rng.random(n) < 0.1)
    collateral = np.select(
        [asset == ASSET_CLASSES.index("car"), asset == ASSET_CLASSES.index("mortgage"),
         asset == ASSET_CLASSES.index("sme")],
        ["vehicle", "property", "equipment"], "none")
    collateral_value = np.where(collateral == "none", np.nan, _money(principal * rng.uniform(1.0, 1.6, n)))
    # planted borrower types behind the willingness x ability quadrant (truth in _truth/borrower_types)
    willing = rng.random(n) < 0.7
    able = rng.random(n) < 0.6
    loans = {
        "loan_id": loan_ids,
        "borrower_id": borrower_ids,
        "borrower_name": _ids("Borrower ", borrower_no, 8),
        "borrower_phone": _ids("+86-139-", borrower_no, 8),
        "borrower_id_number": _ids("1101011990", borrower_no, 8),
        "asset_class": np.array(ASSET_CLASSES)[asset],
        "principal_amount": principal,
        "interest_rate": rate,
        "origination_date": orig_date,
        "maturity_date": maturity,
        "term_months": term,
        "repayment_frequency": np.full(n, "monthly"),
        "branch_id": _ids("BR", rng.integers(1, 41, n), 3),
        "guarantor_id": pc.if_else(pa.array(has_guarantor), _ids("G", borrower_no, 8), None),
        "collateral_type": collateral,
        "collateral_value": collateral_value,
    }

    # --- schedules (annuity, rounded to cents, last installment absorbs rounding) ------------
    offsets = np.concatenate([[0], np.cumsum(term)])  # installments of loan i: offsets[i]..offsets[i+1]
    owner = np.repeat(np.arange(n), term)
    k = np.arange(offsets[-1]) - offsets[owner] + 1  # installment number
    r = rate[owner] / 12
    growth = (1 + r) ** k
    annuity = principal[owner] * r / (1 - (1 + r) ** -term[owner])
    balance_after = np.where(k == term[owner], 0.0, _money(principal[owner] * growth - annuity * (growth - 1) / r))
    balance_before = np.concatenate([[0.0], balance_after[:-1]])
    balance_before[offsets[:-1]] = principal
    sched_principal = _money(balance_before - balance_after)
    sched_interest = _money(balance_before * r)
    sched_due = _month_days(first_due_month[owner] + k - 1, due_day[owner])
    installment_total = sched_principal + sched_interest
    cum_principal = np.concatenate([[0.0], np.cumsum(sched_principal)])
    cum_interest = np.concatenate([[0.0], np.cumsum(sched_interest)])
    schedule = {
        "loan_id": loan_ids.take(pa.array(owner)),
        "installment_number": k,
        "due_date": sched_due,
        "principal_due": sched_principal,
        "interest_due": sched_interest,
    }
    installment = installment_total[offsets[:-1]]
    # able borrowers earn 4-8 installments a month, the others 0.8-2; 15% declare no income
    income = _money(installment * np.where(able, rng.uniform(4, 8, n), rng.uniform(0.8, 2, n)))
    income[rng.random(n) < 0.15] = np.nan
    loans["monthly_income"] = income
    print(f"  loans and {offsets[-1]:,} installments built ({time.monotonic() - t0:.0f}s)", file=sys.stderr)

    # --- month by month ----------------------------------------------------------------------
    truth = transition_matrix(cfg)
    truth_cum = np.cumsum(truth, axis=2)
    state = np.full(n, -1)  # -1 not yet disbursed / no installment due; else index into STATES
    paid_upto = np.zeros(n, dtype=np.int64)  # installments fully paid (oldest first)
    written_off_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    traits = _CollectorTraits(rng, cfg.n_collectors)
    ladder = _LadderState(n)
    ledgers = _Ledgers()
    month_end_states = []
    progress = _Progress("months simulated", cfg.months)
    pay_seq = 0
    for t in range(cfg.months):
        month = month0 + t
        mdays = int(_days_in_month(np.array([month]))[0])
        month_end = _month_days(np.array([month]), np.array([mdays]))[0]
        # Loans with their first installment this month enter at M0; open loans draw their next state.
        entering = (first_due_month == month) & (state == -1)
        state[entering] = 0
        open_ = (state >= 0) & (state < OPEN_STATES) & ~entering
        movers = np.flatnonzero(open_ | entering)
        u = rng.random(movers.size)
        prev_state = state[movers]
        next_state = (u[:, None] > truth_cum[asset[movers], prev_state]).sum(axis=1)
        next_state = np.minimum(next_state, len(STATES) - 1)
        behind = (month - first_due_month[movers]) - paid_upto[movers]  # due before this month, unpaid
        behind = np.maximum(behind, 0)
        n_due = np.minimum(month - first_due_month[movers] + 1, term[movers])  # due by this month end
        # installments to pay this month for the drawn state
        to_pay = np.where(next_state < OPEN_STATES, behind + 1 - np.minimum(next_state, behind + 1), 0)
        stay_6plus = (next_state == 7) & (prev_state == 7)
        to_pay = np.where(stay_6plus, 0, to_pay)
        to_pay = np.minimum(to_pay, n_due - paid_upto[movers])
        prepay = next_state == PAID_OFF
        write_off = next_state == WRITTEN_OFF
        to_pay = np.where(prepay, term[movers] - paid_upto[movers], to_pay)
        pays = to_pay > 0

        # --- payments -----------------------------------------------------------------------
        who = movers[pays]
        first = offsets[who] + paid_upto[who]
        last = first + to_pay[pays]
        principal_paid = _money(cum_principal[last] - cum_principal[first])
        is_prepay = prepay[pays]
        # a prepayment pays remaining principal plus interest of installments already due
        due_last = offsets[who] + np.maximum(n_due[pays], paid_upto[who])
        interest_paid = np.where(
            is_prepay,
            cum_interest[np.minimum(due_last, last)] - cum_interest[first],
            cum_interest[last] - cum_interest[first])
        interest_paid = _money(np.maximum(interest_paid, 0))
        arrears = behind[pays]
        penalty = _money(np.where(arrears > 0, 0.01 * arrears * (principal_paid + interest_paid) / to_pay[pays], 0))
        dd = due_day[who]
        was_behind = arrears > 0
        style = rng.random(who.size)
        pay_day = np.where(
            was_behind | is_prepay, rng.integers(1, 28, who.size),
            np.select([style < 0.15, style < 0.70, style < 0.90], [dd - rng.integers(1, 4, who.size), dd,
                      dd + rng.integers(1, 8, who.size)], dd - 1))

        # --- collection actions on loans that were behind at the last month end ---------------
        delinquent = (prev_state >= 1) & (prev_state < OPEN_STATES) & ~entering[movers]
        pay_amount = np.full(n, np.nan)
        pay_amount[who] = principal_paid + interest_paid + penalty
        actions, promised_window = _collection_month(
            rng, month, movers[delinquent], prev_state[delinquent], pays[delinquent], pay_amount,
            installment, willing, traits, ladder)
        if actions:
            ledgers.add("collection_actions", **actions)
        # a payer who promised pays inside the promise's window
        promised = np.full(n, -1)
        promised[promised_window[0]] = np.arange(promised_window[0].size)
        kept = promised[who] >= 0
        window = promised[who][kept]
        pay_day[kept] = rng.integers(promised_window[1][window], promised_window[2][window] + 1)
        split = ~was_behind & ~is_prepay & (style >= 0.90)  # partial payment, rest paid later in the month
        pay_date = _month_days(np.full(who.size, month), pay_day)
        first_share = np.where(split, 0.5, 1.0)
        rows_main = {
            "loan": who, "date": pay_date,
            "principal": _money(principal_paid * first_share), "interest": _money(interest_paid * first_share),
            "penalty": penalty,
        }
        rest_idx = np.flatnonzero(split)
        rows_rest = {
            "loan": who[rest_idx],
            "date": _month_days(np.full(rest_idx.size, month), dd[rest_idx] + rng.integers(2, 8, rest_idx.size)),
            "principal": principal_paid[rest_idx] - rows_main["principal"][rest_idx],
            "interest": interest_paid[rest_idx] - rows_main["interest"][rest_idx],
            "penalty": np.zeros(rest_idx.size),
        }
        payment_rows = {k: np.concatenate([rows_main[k], rows_rest[k]]) for k in rows_main}
        count = payment_rows["loan"].size
        payment_no = pay_seq + np.arange(count)
        pay_seq += count
        # reversals: a bounced payment made by the 20th is reversed 2-4 days later and paid again
        day_of = (payment_rows["date"] - _month_days(np.full(count, month), np.ones(count, int))).astype(int) + 1
        not_promised = np.concatenate([~kept, np.ones(rest_idx.size, bool)])
        bounce = np.flatnonzero((rng.random(count) < 0.02) & (day_of <= 20) & not_promised)
        reversal_date = payment_rows["date"][bounce] + rng.integers(2, 5, bounce.size).astype("timedelta64[D]")
        repay_date = reversal_date + rng.integers(1, 4, bounce.size).astype("timedelta64[D]")
        rev_no = pay_seq + np.arange(bounce.size)
        repay_no = rev_no + bounce.size
        pay_seq += 2 * bounce.size
        channel = np.array(["direct_debit", "bank_transfer", "app", "cash", "collection_agent"])
        base_channel = channel[rng.choice(5, count, p=[0.45, 0.25, 0.2, 0.05, 0.05])]
        ids_all = np.concatenate([payment_no, rev_no, repay_no])
        idx_all = np.concatenate([np.arange(count), bounce, bounce])
        ledgers.add(
            "repayments",
            payment_no=ids_all,
            loan=payment_rows["loan"][idx_all],
            value_date=np.concatenate([payment_rows["date"], reversal_date, repay_date]),
            payment_type=np.concatenate([np.full(count, "payment"), np.full(bounce.size, "reversal"),
                                         np.full(bounce.size, "payment")]),
            reverses_no=np.concatenate([np.full(count, -1), payment_no[bounce], np.full(bounce.size, -1)]),
            principal_paid=payment_rows["principal"][idx_all],
            interest_paid=payment_rows["interest"][idx_all],
            penalty_paid=payment_rows["penalty"][idx_all],
            channel=np.concatenate([base_channel, base_channel[bounce], np.full(bounce.size, "bank_transfer")]),
        )

        # --- write-offs ---------------------------------------------------------------------
        wo = movers[write_off]
        wo_date = _month_days(np.full(wo.size, month), rng.integers(21, 29, wo.size))
        written_off_on[wo] = wo_date
        outstanding = principal[wo] - cum_principal[offsets[wo] + paid_upto[wo]] + cum_principal[offsets[wo]]
        ledgers.add("write_offs", loan=wo, write_off_date=wo_date, written_off_amount=_money(outstanding))
        # recoveries (payments after the write-off): on average RECOVERY_RATE of the written-off
        # amount per asset class, in one to three payments within WORKOUT_MONTHS months
        rate = np.array([RECOVERY_RATE[name] for name in ASSET_CLASSES])[asset[wo]]
        recovered = outstanding * rate * rng.uniform(0.5, 1.5, wo.size)
        parts = rng.integers(1, 4, wo.size)
        for part in range(3):
            who_pays = parts > part
            rec_month = month + rng.integers(1, WORKOUT_MONTHS + 1, wo.size)
            who_pays &= rec_month < month0 + cfg.months  # after the book's end: not in these ledgers
            paying = int(who_pays.sum())
            if not paying:
                continue
            ledgers.add(
                "repayments",
                payment_no=pay_seq + np.arange(paying), loan=wo[who_pays],
                value_date=_month_days(rec_month[who_pays], rng.integers(1, 28, paying)),
                payment_type=np.full(paying, "payment"), reverses_no=np.full(paying, -1),
                principal_paid=_money(recovered[who_pays] / parts[who_pays]), interest_paid=np.zeros(paying),
                penalty_paid=np.zeros(paying), channel=np.full(paying, "collection_agent"),
            )
            pay_seq += paying

        # --- borrower events: warning signals, mostly ahead of a first missed installment -------
        first_miss = (prev_state == 0) & (next_state == 1)
        p_event = np.where(first_miss, 0.45, np.where(prev_state == 0, 0.004, 0.05))
        flagged = movers[rng.random(movers.size) < p_event]
        event_day = np.minimum(rng.integers(1, 20, flagged.size), due_day[flagged])
        event_type = np.array(BORROWER_EVENT_TYPES)[rng.integers(0, len(BORROWER_EVENT_TYPES), flagged.size)]
        ledgers.add("borrower_events", loan=flagged, event_date=_month_days(np.full(flagged.size, month), event_day),
                    event_type=event_type)

        # --- advance ------------------------------------------------------------------------
        paid_upto[who] += to_pay[pays]
        state[movers] = next_state
        state[movers[pays & (paid_upto[movers] >= term[movers])]] = PAID_OFF  # paid to the end
        observed = np.flatnonzero(orig_month <= month)  # disbursed, nothing due yet: current (M0)
        month_end_states.append((observed, np.full(observed.size, month_end), np.maximum(state[observed], 0)))
        progress.step(t + 1, f"{movers.size:,} loans open")

    # --- write -------------------------------------------------------------------------------
    days = np.arange(start_month.astype("datetime64[D]"), (start_month + cfg.months).astype("datetime64[D]"))
    tables = {
        "loans": (loans, loans["origination_date"]),
        "repayment_schedule": (schedule, np.repeat(orig_date, term)),
    }
    no_rows = ({}, np.array([], dtype="datetime64[D]"))
    for ledger, build in (
        ("repayments", lambda rows: _repayments_table(rows, loan_ids)),
        ("write_offs", lambda rows: _simple_table(rows, loan_ids, "write_off_date")),
        ("collection_actions", lambda rows: _actions_table(rows, loan_ids)),
        ("borrower_events", lambda rows: _events_table(rows, loan_ids, borrower_ids)),
    ):
        rows = ledgers.concat(ledger)
        tables[ledger] = build(rows) if rows else no_rows
    counts = _write_days(out, days, tables, cfg.file_format)
    _write_truth(out, cfg, truth, month_end_states, loan_ids)
    _write_collection_truth(out / "_truth", tables["collection_actions"][0], ledgers.concat("collection_actions"),
                            loan_ids, willing, able)
    summary = {"config": asdict(cfg), "rows": counts, "days": int(days.size),
               "seconds": round(time.monotonic() - t0, 1)}
    (out / "_truth" / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"Done in {summary['seconds']}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), file=sys.stderr)
    return summary


def _repayments_table(rows: dict, loan_ids: pa.Array):
    amount = _money(rows["principal_paid"] + rows["interest_paid"] + rows["penalty_paid"])
    reverses = rows["reverses_no"]
    table = {
        "payment_id": _ids("P", rows["payment_no"], 10),
        "loan_id": loan_ids.take(pa.array(rows["loan"])),
        "value_date": rows["value_date"],
        "payment_type": rows["payment_type"],
        "reverses_payment_id": pc.if_else(pa.array(reverses >= 0), _ids("P", np.maximum(reverses, 0), 10), None),
        "amount": amount,
        "principal_paid": rows["principal_paid"],
        "interest_paid": rows["interest_paid"],
        "penalty_paid": rows["penalty_paid"],
        "channel": rows["channel"],
    }
    return table, rows["value_date"]


def _simple_table(rows: dict, loan_ids: pa.Array, date_column: str):
    table = {"loan_id": loan_ids.take(pa.array(rows["loan"])), date_column: rows[date_column],
             "written_off_amount": rows["written_off_amount"]}
    return table, rows[date_column]


def _actions_table(rows: dict, loan_ids: pa.Array):
    size = rows["loan"].size
    table = {
        "action_id": _ids("A", np.arange(1, size + 1), 10),
        "loan_id": loan_ids.take(pa.array(rows["loan"])),
        "action_date": rows["action_date"],
        "action_type": rows["action_type"],
        "collector_id": _ids("C", rows["collector"], 3),
        "team_id": _ids("T", rows["collector"] // 6, 2),
        "outcome": rows["outcome"],
        "reached_borrower": rows["reached_borrower"],
        "promise_amount": rows["promise_amount"],
        "promise_date": rows["promise_date"],
    }
    return table, rows["action_date"]


def _events_table(rows: dict, loan_ids: pa.Array, borrower_ids: pa.Array):
    size = rows["loan"].size
    loans = pa.array(rows["loan"])
    table = {
        "event_id": _ids("E", np.arange(1, size + 1), 10),
        "loan_id": loan_ids.take(loans),
        "borrower_id": borrower_ids.take(loans),
        "event_date": rows["event_date"],
        "event_type": rows["event_type"],
        "detail": pa.nulls(size, pa.string()),
    }
    return table, rows["event_date"]


def _arrow_table(ledger: str, columns: dict) -> pa.Table:
    """Columns in contract order with contract types (money as float64 in files, cast by the loader)."""
    types = {"VARCHAR": pa.string(), "DATE": pa.date32(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_()}
    arrays = []
    for col in LEDGERS[ledger].columns:
        values = columns.get(col.name)
        arrow_type = types.get(col.type, pa.float64())
        if values is None:
            arrays.append(pa.nulls(0, arrow_type))
            continue
        if isinstance(values, np.ndarray) and values.dtype.kind == "M":
            values = pa.array(values.astype("datetime64[D]"), pa.date32())  # NaT becomes null
        elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
            values = pa.array(values, pa.float64(), from_pandas=True)  # NaN becomes null
        arrays.append(pc.cast(pa.array(values) if isinstance(values, np.ndarray) else values, arrow_type))
    return pa.table(arrays, names=LEDGERS[ledger].column_names)


def _write_days(out: Path, days: np.ndarray, tables: dict, file_format: str) -> dict[str, int]:
    progress = _Progress("ledgers written", len(tables))
    counts = {}
    for done, (ledger, (columns, landing)) in enumerate(tables.items(), start=1):
        table = _arrow_table(ledger, columns)
        landing = np.asarray(landing, dtype="datetime64[D]")
        order = np.argsort(landing, kind="stable")
        table = table.take(pa.array(order))
        bounds = np.searchsorted(landing[order], np.concatenate([days, [days[-1] + 1]]))
        for i, day in enumerate(days):
            folder = out / str(day)
            folder.mkdir(parents=True, exist_ok=True)
            part = table.slice(bounds[i], bounds[i + 1] - bounds[i])
            if file_format == "csv":
                pa_csv.write_csv(part, folder / f"{ledger}.csv")
            else:
                pq.write_table(part, folder / f"{ledger}.parquet")
        counts[ledger] = int(bounds[-1] - bounds[0])
        progress.step(done, f"{ledger} {counts[ledger]:,} rows")
    for day in days:
        (out / str(day) / "_SUCCESS").touch()
    return counts


def _write_collection_truth(folder: Path, actions: dict, rows: dict, loan_ids: pa.Array, willing, able):
    """What the generator planted: each promise's outcome, each contact that failed to escalate, each loan's type."""
    if rows:
        pq.write_table(pa.table({
            "action_id": actions["action_id"], "planted_promise": rows["planted_promise"],
            "planted_lapse": rows["planted_lapse"],
        }), folder / "planted_collection.parquet")
    pq.write_table(pa.table({"loan_id": loan_ids, "willing": willing, "able": able}), folder / "borrower_types.parquet")


def _write_truth(out: Path, cfg: BookConfig, truth: np.ndarray, month_end_states: list, loan_ids: pa.Array):
    folder = out / "_truth"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        (ASSET_CLASSES[a], STATES[s], STATES[j], float(truth[a, s, j]))
        for a in range(truth.shape[0]) for s in range(truth.shape[1]) for j in range(truth.shape[2])
    ]
    pq.write_table(pa.table({
        "asset_class": [r[0] for r in rows], "from_state": [r[1] for r in rows],
        "to_state": [r[2] for r in rows], "probability": [r[3] for r in rows],
    }), folder / "transition_matrix.parquet")
    (folder / "recovery_rates.json").write_text(json.dumps(
        {"recovery_rate": RECOVERY_RATE, "workout_months": WORKOUT_MONTHS}, indent=2))
    loans = np.concatenate([m[0] for m in month_end_states])
    pq.write_table(pa.table({
        "loan_id": loan_ids.take(pa.array(loans)),
        "month_end": pa.array(np.concatenate([m[1] for m in month_end_states]), pa.date32()),
        "state": np.array(STATES)[np.concatenate([m[2] for m in month_end_states])],
    }), folder / "month_end_states.parquet")
    (folder / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
