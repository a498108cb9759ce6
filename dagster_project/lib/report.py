"""The monitoring report: one static HTML page a risk manager opens in a browser, rebuilt from the
published BI file after each publish. Plotly charts; plotly.min.js sits beside the page, so it
works offline."""

from __future__ import annotations

import html
import os
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.offline

REPORT_DIR = "report"
CHARTS = ("overdue_matrix", "par", "roll_rates", "bad_debt_probability", "expected_loss", "vintage_curves",
          "collection_kpis", "warning_signals")


def _query(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _heatmap(rows, x_order, y_order, title: str, z_format: str, colorscale: str) -> go.Figure:
    cell = {(x, y): z for x, y, z in rows}
    z = [[cell.get((x, y)) for x in x_order] for y in y_order]
    figure = go.Figure(go.Heatmap(z=z, x=x_order, y=y_order, colorscale=colorscale, texttemplate=z_format,
                                  hoverongaps=False))
    figure.update_layout(title=title, yaxis={"autorange": "reversed"})
    return figure


def _lines(rows, title: str, y_title: str, percent: bool = False) -> go.Figure:
    """rows: (series, x, y)."""
    figure = go.Figure()
    for name in sorted({r[0] for r in rows}):
        points = sorted((x, y) for series, x, y in rows if series == name)
        figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                    name=str(name)))
    figure.update_layout(title=title, yaxis={"title": y_title, "tickformat": ".1%" if percent else ",.0f"})
    return figure


def build_figures(con: duckdb.DuckDBPyConnection) -> dict[str, go.Figure]:
    last_day = _query(con, "select max(as_of_date) from fct_overdue_matrix")[0][0]
    buckets = [r[0] for r in _query(con, "select distinct bucket, bucket_order from fct_overdue_matrix order by 2")]
    classes = [r[0] for r in _query(con, "select distinct asset_class from fct_overdue_matrix order by 1")]
    figures = {
        "overdue_matrix": _heatmap(
            _query(con, f"select asset_class, bucket, account_share from fct_overdue_matrix "
                        f"where as_of_date = date '{last_day}'"),
            classes, buckets, f"Overdue matrix (逾期矩阵) on {last_day}: share of each asset class's accounts",
            "%{z:.2%}", "Reds"),
        "par": _lines(_query(con, "select asset_class, as_of_date, par30 from fct_portfolio_at_risk"),
                      "PAR30 by asset class", "PAR30", percent=True),
    }
    states = [r[0] for r in _query(
        con, "select distinct to_state, to_state_order from fct_roll_rates_pooled order by 2")]
    from_states = [s for s in states if s not in ("paid_off", "written_off")]
    figures["roll_rates"] = _heatmap(
        _query(con, "select to_state, from_state, account_rate from fct_roll_rates_pooled "
                    "where portfolio = 'book' and asset_class = 'all'"),
        states, from_states, "Roll rates (迁徙率), pooled, whole book: from the row's state to the column's",
        "%{z:.1%}", "Blues")
    pi = _query(con, "select asset_class, bucket, bucket_order, markov_pi from fct_bad_debt_probability_by_horizon "
                     "where portfolio = 'book' and horizon_months = 12 order by bucket_order")
    figure = go.Figure()
    for asset_class in sorted({r[0] for r in pi}):
        figure.add_trace(go.Bar(x=[r[1] for r in pi if r[0] == asset_class],
                                y=[r[3] for r in pi if r[0] == asset_class], name=asset_class))
    figure.update_layout(title="Pi(i, 12): probability that a loan in the bucket is written off within 12 months",
                         yaxis={"tickformat": ".0%"}, barmode="group")
    figures["bad_debt_probability"] = figure
    figures["expected_loss"] = _lines(
        _query(con, "select asset_class, month_end, sum(expected_loss_12m) from fct_expected_loss "
                    "group by all"), "12-month expected loss Σ EAD·Pi(i, 12)·LGD by asset class, month ends",
        "expected loss")
    figures["vintage_curves"] = _lines(
        _query(con, "select strftime(origination_month, '%Y-%m'), months_on_book, ever_30_rate "
                    "from fct_vintage_curves"), "Vintage curves: share of loans ever 30+ days past due",
        "ever 30+", percent=True)
    figures["collection_kpis"] = _lines(
        _query(con, "select kpi, action_month, rate from (select action_month, "
                    "sum(calls_connected) / nullif(sum(calls_dialled), 0) as \"contact rate\", "
                    "sum(promises) / nullif(sum(effective_contacts), 0) as \"promise-to-pay rate\", "
                    "sum(promises_kept) / nullif(sum(promises) - sum(promises_pending), 0) as \"kept rate\" "
                    "from fct_collection_kpis_monthly group by action_month) "
                    "unpivot (rate for kpi in (\"contact rate\", \"promise-to-pay rate\", \"kept rate\"))"),
        "Collection KPIs (催收考核指标) by month, all collectors", "rate", percent=True)
    signals = _query(con, "select rule_id || ' ' || rule_name, count(*) from fct_warning_signals "
                          "where signal_date > (select max(signal_date) from fct_warning_signals) - 30 "
                          "group by all order by 2 desc limit 10")
    figure = go.Figure(go.Bar(x=[r[1] for r in signals], y=[r[0] for r in signals], orientation="h"))
    figure.update_layout(title="Top warning signals (危险信号), last 30 days: loans flagged",
                         yaxis={"autorange": "reversed"})
    figures["warning_signals"] = figure
    return figures


def write_report(bi_file: Path, out_dir: Path) -> Path:
    """Render the report of the published file into out_dir/index.html (replaced atomically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(bi_file), read_only=True) as con:
        figures = build_figures(con)
        published_at, last_day = _query(con, "select published_at, last_aged_day from publication")[0]
    script = out_dir / "plotly.min.js"
    if not script.exists():
        script.write_text(plotly.offline.get_plotlyjs())
    sections = "\n".join(
        f'<section id="{name}">{figures[name].to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}")}'
        "</section>" for name in CHARTS)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Post-loan monitoring report {last_day}</title>
<script>window.reportErrors = []; window.addEventListener("error", e => window.reportErrors.push(e.message));</script>
<script src="plotly.min.js"></script>
<style>body {{ font-family: sans-serif; margin: 2em; }} section {{ margin-bottom: 2em; }}</style>
</head><body>
<h1>Post-loan monitoring (贷后管理) — book as of {html.escape(str(last_day))}</h1>
<p>Published {html.escape(f"{published_at:%Y-%m-%d %H:%M}")} UTC from the validated marts.</p>
{sections}
<pre id="js-errors"></pre>
<script>document.getElementById("js-errors").textContent = window.reportErrors.join("\\n");</script>
</body></html>
"""
    page_tmp = out_dir / ".index.html.tmp"
    page_tmp.write_text(page, encoding="utf-8")
    os.replace(page_tmp, out_dir / "index.html")
    return out_dir / "index.html"
