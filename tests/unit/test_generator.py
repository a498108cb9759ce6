import datetime as dt

import duckdb
import numpy as np
import pytest

from demo_book.generator import BUCKET_MIN_DPD, STATES, BookConfig, generate_book, transition_matrix

SMALL = BookConfig(n_loans=3000, months=10, seed=3, write_off_dpd=30)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    generate_book(SMALL, out)
    return out


def ledger(book, name):
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{book}/*/{name}.parquet') order by all").fetchall()


def test_truth_rows_are_distributions_and_write_offs_come_only_past_the_configured_dpd():
    for write_off_dpd in (60, 180):
        truth = transition_matrix(BookConfig(write_off_dpd=write_off_dpd))
        assert np.allclose(truth.sum(axis=2), 1) and (truth >= 0).all()
        eligible = np.array(BUCKET_MIN_DPD) > write_off_dpd
        assert (truth[:, ~eligible, STATES.index("written_off")] == 0).all()
        assert (truth[:, eligible, STATES.index("written_off")] > 0).all()


@pytest.mark.parametrize("due_day", range(4, 21))
def test_month_end_bucket_is_the_number_of_missed_installments(due_day):
    """The generator's premise: with due days 4..20, k missed installments is bucket Mk at any month end."""
    edges = [(1, 30), (31, 60), (61, 90), (91, 120), (121, 150), (151, 180), (181, 10**6)]
    for month_index in range(12 * 2024, 12 * 2030):
        month_end = dt.date(month_index // 12, month_index % 12 + 1, 1)
        month_end = (month_end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        for missed in range(1, 8):
            due_month = month_index - missed + 1
            oldest_due = dt.date(due_month // 12, due_month % 12 + 1, due_day)
            low, high = edges[missed - 1]
            assert low <= (month_end - oldest_due).days <= high, (due_day, month_end, missed)


def test_same_seed_same_book(book, tmp_path):
    generate_book(SMALL, tmp_path)
    for name in ("loans", "repayments", "collection_actions"):
        assert ledger(book, name) == ledger(tmp_path, name)


def test_book_has_the_behaviour_of_a_real_one(book):
    kinds = dict(duckdb.sql(f"select payment_type, count(*) from read_parquet('{book}/*/repayments.parquet') "
                            "group by all").fetchall())
    assert kinds["reversal"] > 0 and kinds["payment"] > 50 * kinds["reversal"]
    with duckdb.connect() as con:
        early, late, on_time = con.execute(f"""
            select count(*) filter (where r.value_date < s.due_date), count(*) filter (where r.value_date > s.due_date),
                   count(*) filter (where r.value_date = s.due_date)
            from read_parquet('{book}/*/repayments.parquet') r
            join read_parquet('{book}/*/repayment_schedule.parquet') s
              on s.loan_id = r.loan_id and date_trunc('month', s.due_date) = date_trunc('month', r.value_date)
            where r.payment_type = 'payment'""").fetchone()
        assert early > 0 and late > 0 and on_time > early
        by_class = dict(con.execute(f"""
            select l.asset_class, avg(case when s.state not in ('M0', 'paid_off') then 1.0 else 0 end)
            from read_parquet('{book}/_truth/month_end_states.parquet') s
            join read_parquet('{book}/*/loans.parquet') l using (loan_id) group by all""").fetchall())
        assert by_class["consumer"] > 2 * by_class["mortgage"]
        write_offs, recoveries = con.execute(f"""
            select count(distinct w.loan_id), count(r.payment_id)
            from read_parquet('{book}/*/write_offs.parquet') w
            left join read_parquet('{book}/*/repayments.parquet') r
              on r.loan_id = w.loan_id and r.value_date > w.write_off_date""").fetchone()
        assert write_offs > 0 and recoveries > 0
        # warning events come ahead of a first missed installment more often than not
        flagged_then_missed, flagged = con.execute(f"""
            with events as (select distinct loan_id, date_trunc('month', event_date) as month
                            from read_parquet('{book}/*/borrower_events.parquet')),
            states as (select loan_id, date_trunc('month', month_end) as month, state,
                              lag(state) over (partition by loan_id order by month_end) as before
                       from read_parquet('{book}/_truth/month_end_states.parquet'))
            select count(*) filter (where s.before = 'M0' and s.state = 'M1'), count(*)
            from events e join states s using (loan_id, month) where s.before = 'M0'""").fetchone()
        assert flagged_then_missed > flagged / 2
        # collectors differ: contact rates spread across collectors
        rates = [r[0] for r in con.execute(f"""
            select avg(case when outcome = 'connected' then 1.0 else 0 end)
            from read_parquet('{book}/*/collection_actions.parquet') where action_type = 'call'
            group by collector_id having count(*) > 30""").fetchall()]
        assert max(rates) - min(rates) > 0.15


def test_progress_is_shown(tmp_path, capsys):
    generate_book(BookConfig(n_loans=50, months=2), tmp_path)
    err = capsys.readouterr().err
    assert "months simulated: 2/2" in err and "ledgers written: 6/6" in err
