import datetime as dt

from dagster_project.lib.restatement import aging_parts

D = dt.date.fromisoformat


def test_a_window_is_cut_into_consecutive_parts_of_at_most_the_loan_days_allowed():
    assert aging_parts(D("2025-01-01"), D("2026-01-01"), 20_000, 2_500_000) == [
        (D("2025-01-01"), D("2025-05-06")), (D("2025-05-06"), D("2025-09-08")), (D("2025-09-08"), D("2026-01-01"))]
    assert aging_parts(D("2025-01-01"), D("2026-01-01"), 100_000, 100_000_000) == [(D("2025-01-01"), D("2026-01-01"))]
    # a book larger than the allowance still ages a day per part; a day's run and an empty window are one part
    assert len(aging_parts(D("2025-01-01"), D("2025-01-04"), 10**9, 100)) == 3
    assert aging_parts(D("2025-01-01"), D("2025-01-02"), 10**9, 100) == [(D("2025-01-01"), D("2025-01-02"))]
    assert aging_parts(D("2025-01-05"), D("2025-01-05"), 10, 100) == [(D("2025-01-05"), D("2025-01-05"))]
    # a book of few loans, or none yet, is one part, however long the window
    assert aging_parts(D("2025-01-01"), D("2026-01-01"), 0, 100_000_000) == [(D("2025-01-01"), D("2026-01-01"))]
    assert aging_parts(D("2025-01-01"), D("2026-01-01"), 3, 100_000_000) == [(D("2025-01-01"), D("2026-01-01"))]
