"""The monitoring report: one static HTML page a risk manager opens in a browser, rebuilt from the
published BI file after each publish. Plotly charts; plotly.min.js sits beside the page, so it
works offline, and the page embeds the glyphs of its own non-ASCII characters (a subset of Noto Sans
CJK SC), so Chinese shows on a machine without Chinese fonts."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.offline
from fontTools import subset

REPORT_DIR = "report"
CHARTS = ("overdue_matrix", "par", "roll_rates", "bad_debt_probability", "expected_loss", "backtest",
          "vintage_curves", "collection_kpis", "warning_signals")
BACKTEST_BAND = (0.8, 1.25)  # actual / expected within it: the expected loss held
FONT_FILE = Path(__file__).parent / "fonts" / "NotoSansCJKsc-GB2312.woff2"
FONT_FAMILY = "Report CJK"


def _query(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _heatmap(rows, x_order, y_order, title: str, z_format: str, colorscale: str, x_title: str, y_title: str,
             text: dict | None = None) -> go.Figure:
    """rows: (x, y, z); text: (x, y) -> a second line under each cell's value."""
    cell = {(x, y): z for x, y, z in rows}
    z = [[cell.get((x, y)) for x in x_order] for y in y_order]
    labels = [[(text or {}).get((x, y), "") for x in x_order] for y in y_order]
    figure = go.Figure(go.Heatmap(z=z, x=x_order, y=y_order, colorscale=colorscale, text=labels,
                                  texttemplate=z_format + ("<br>%{text}" if text else ""), hoverongaps=False))
    figure.update_layout(title=title, xaxis={"title": x_title}, yaxis={"title": y_title, "autorange": "reversed"})
    return figure


def _lines(rows, title: str, x_title: str, y_title: str, percent: bool = False) -> go.Figure:
    """rows: (series, x, y)."""
    figure = go.Figure()
    for name in sorted({r[0] for r in rows}):
        points = sorted((x, y) for series, x, y in rows if series == name)
        figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                    name=str(name)))
    figure.update_layout(title=title, xaxis={"title": x_title},
                         yaxis={"title": y_title, "tickformat": ".1%" if percent else ",.0f"})
    return figure


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The figures a risk manager reads first, for the last aged day (and the last month end's expected loss)."""
    last_day = _query(con, "select max(as_of_date) from fct_overdue_matrix")[0][0]  # none for a book of tapes only
    accounts, outstanding, overdue = con.execute(
        "select sum(accounts), sum(outstanding_principal), sum(overdue_amount) from fct_overdue_matrix "
        "where as_of_date = ?", [last_day]).fetchone()
    par30, par90 = con.execute("select par30, par90 from fct_portfolio_at_risk where as_of_date = ? "
                               "and asset_class = 'all'", [last_day]).fetchone() or (None, None)
    month_end, loss_12m, loss_life, loss_ifrs9, m = _query(
        con, "select max(month_end), sum(expected_loss_12m), sum(expected_loss_remaining_life), "
             "sum(expected_loss_ifrs9), sum(bad_debt_estimate) from fct_expected_loss "
             "where month_end = (select max(month_end) from fct_expected_loss)")[0]
    return {"as of": last_day, "accounts": accounts, "outstanding principal": outstanding,
            "overdue (principal and interest)": overdue, "PAR30": par30, "PAR90": par90,
            "expected loss at month end": month_end, "12-month expected loss": loss_12m,
            "remaining-life expected loss": loss_life, "IFRS 9 expected loss": loss_ifrs9,
            "M = Σ Mi·Pi (no LGD)": m}


def _headline_html(figures: dict[str, object]) -> str:
    def shown(name: str, value) -> str:
        if value is None:
            return "–"
        if name.startswith("PAR"):
            return f"{value:.2%}"
        if isinstance(value, (int, float)) or hasattr(value, "as_integer_ratio"):
            return f"{value:,.0f}"
        return str(value)

    cells = "".join(f'<tr><th>{html.escape(name)}</th><td data-figure="{html.escape(name)}">'
                    f"{html.escape(shown(name, value))}</td></tr>" for name, value in figures.items())
    return f'<table id="headline">{cells}</table>'


def build_figures(con: duckdb.DuckDBPyConnection) -> dict[str, go.Figure]:
    last_day = _query(con, "select max(as_of_date) from fct_overdue_matrix")[0][0]
    buckets = [r[0] for r in _query(con, "select distinct bucket, bucket_order from fct_overdue_matrix order by 2")]
    classes = [r[0] for r in _query(con, "select distinct asset_class from fct_overdue_matrix order by 1")]
    # the overdue buckets only: M0 holds ~90% of accounts and would spend the colour scale on itself
    matrix = _query(con, f"""
        with cells as (
            select asset_class, bucket, accounts, overdue_amount from fct_overdue_matrix
            where as_of_date = date '{last_day}'
            union all
            select 'whole book', bucket, sum(accounts), sum(overdue_amount) from fct_overdue_matrix
            where as_of_date = date '{last_day}' group by bucket)
        select asset_class, bucket, accounts / sum(accounts) over (partition by asset_class), overdue_amount
        from cells""")
    overdue_buckets = [b for b in buckets if b != "M0"]
    figures = {
        "overdue_matrix": _heatmap(
            [(c, b, share) for c, b, share, _ in matrix if b != "M0"], [*classes, "whole book"], overdue_buckets,
            f"Overdue matrix (逾期矩阵) on {last_day}: share of the asset class's accounts, and the overdue amount",
            "%{z:.2%}", "Reds", "asset class", "bucket",
            text={(c, b): f"{amount:,.0f}" for c, b, _, amount in matrix}),
        "par": _lines(_query(con, "select asset_class, as_of_date, par30 from fct_portfolio_at_risk"),
                      "PAR30 by asset class", "as-of date", "PAR30", percent=True),
    }
    states = [r[0] for r in _query(
        con, "select distinct to_state, to_state_order from fct_roll_rates_pooled order by 2")]
    from_states = [s for s in states if s not in ("paid_off", "written_off")]
    figures["roll_rates"] = _heatmap(
        _query(con, "select to_state, from_state, account_rate from fct_roll_rates_pooled "
                    "where portfolio = 'book' and asset_class = 'all'"),
        states, from_states, "Roll rates (迁徙率), pooled, whole book: from the row's state to the column's",
        "%{z:.1%}", "Blues", "state a month later", "state at a month end")
    pi = _query(con, "select bucket, markov_pi_within_horizon, cohort_pi, cohort_pi_low, cohort_pi_high, "
                     "cohort_horizon_months from fct_bad_debt_probability "
                     "where portfolio = 'book' and asset_class = 'all' order by bucket_order")
    horizon = pi[0][5] if pi else 12
    figure = go.Figure([
        go.Bar(x=[r[0] for r in pi], y=[r[1] for r in pi], name="Markov chain (pooled roll rates)"),
        go.Bar(x=[r[0] for r in pi], y=[r[2] for r in pi], name="cohort (what happened), 95% interval",
               error_y={"type": "data", "symmetric": False,
                        "array": [None if r[2] is None else r[4] - r[2] for r in pi],
                        "arrayminus": [None if r[2] is None else r[2] - r[3] for r in pi]}),
    ])
    figure.update_layout(title=f"Pi(i, {horizon}): probability that a loan in the bucket goes bad within {horizon} "
                               "months, whole book, by both methods", barmode="group",
                         xaxis={"title": "bucket"}, yaxis={"title": "Pi", "tickformat": ".0%"})
    figures["bad_debt_probability"] = figure
    figures["expected_loss"] = _lines(
        _query(con, "select asset_class, month_end, sum(expected_loss_12m) from fct_expected_loss "
                    "group by all"), "12-month expected loss Σ EAD·Pi(i, 12)·LGD by asset class, month ends",
        "month end", "expected loss")
    backtest = _query(con, "select asset_class, month_end, actual_over_expected from fct_expected_loss_backtest "
                           "where method = 'markov_12m' and actual_over_expected is not null")
    figure = _lines(backtest, f"Backtest: the 12-month expected loss at a month end against the loss of the next "
                              f"12 months (actual / expected; within {BACKTEST_BAND[0]}-{BACKTEST_BAND[1]} it held)",
                    "month end", "actual / expected")
    figure.update_layout(yaxis={"tickformat": ".2f"})
    for level in BACKTEST_BAND:
        figure.add_hline(y=level, line_dash="dot")
    if not backtest:
        figure.add_annotation(text="No month end has a complete 12-month horizon yet", showarrow=False,
                              xref="paper", yref="paper", x=0.5, y=0.5)
    figures["backtest"] = figure
    figures["vintage_curves"] = _lines(
        _query(con, "select strftime(origination_month, '%Y-%m'), months_on_book, ever_30_rate "
                    "from fct_vintage_curves"), "Vintage curves: share of loans ever 30+ days past due",
        "months on book", "ever 30+", percent=True)
    figures["collection_kpis"] = _lines(
        _query(con, "select kpi, action_month, rate from (select action_month, "
                    "sum(calls_connected) / nullif(sum(calls_dialled), 0) as \"contact rate\", "
                    "sum(promises) / nullif(sum(effective_contacts), 0) as \"promise-to-pay rate\", "
                    "sum(promises_kept) / nullif(sum(promises) - sum(promises_pending), 0) as \"kept rate\" "
                    "from fct_collection_kpis_monthly group by action_month) "
                    "unpivot (rate for kpi in (\"contact rate\", \"promise-to-pay rate\", \"kept rate\"))"),
        "Collection KPIs (催收考核指标) by month, all collectors", "month", "rate", percent=True)
    signals = _query(con, "select rule_id || ' ' || rule_name, count(*) from fct_warning_signals "
                          "where signal_date > (select max(signal_date) from fct_warning_signals) - 30 "
                          "group by all order by 2 desc limit 10")
    figure = go.Figure(go.Bar(x=[r[1] for r in signals], y=[r[0] for r in signals], orientation="h"))
    figure.update_layout(title="Top warning signals (危险信号), last 30 days: loans flagged",
                         xaxis={"title": "loans flagged"}, yaxis={"title": "rule", "autorange": "reversed"})
    figures["warning_signals"] = figure
    return figures


def embedded_font(text: str) -> str:
    """The @font-face rule that carries the glyphs of text's non-ASCII characters, base64 in the page."""
    wanted = {c for c in text if ord(c) > 0x7E} | {"\u2212"}  # Plotly's axes write minus as U+2212
    options = subset.Options(flavor="woff2", notdef_outline=True)
    font = subset.load_font(str(FONT_FILE), options)
    missing = wanted - {chr(code) for code in font.getBestCmap()}
    if missing:
        logging.getLogger(__name__).warning("the report's font has no glyph for %s", "".join(sorted(missing)))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(wanted - missing))
    subsetter.subset(font)
    woff2 = io.BytesIO()
    subset.save_font(font, woff2, options)
    return (f'@font-face {{ font-family: "{FONT_FAMILY}"; '
            f'src: url(data:font/woff2;base64,{base64.b64encode(woff2.getvalue()).decode()}) format("woff2"); }}')


def write_report(bi_file: Path, out_dir: Path, quality_results: Path | None = None) -> Path:
    """Render the report of the published file into out_dir/index.html (replaced atomically); quality_results:
    the Data Docs page of the audit that let this publication through."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(bi_file), read_only=True) as con:
        figures = build_figures(con)
        figures_first = headline(con)
        published_at, last_day = _query(con, "select published_at, last_aged_day from publication")[0]
    script = out_dir / "plotly.min.js"
    if not script.exists():
        script.write_text(plotly.offline.get_plotlyjs())
    quality = (f' Quality results of the audit: <a id="quality-results" href="{quality_results.resolve().as_uri()}">'
               "Great Expectations Data Docs</a>." if quality_results else "")
    for figure in figures.values():
        figure.update_layout(font_family=f'"{FONT_FAMILY}", "Open Sans", verdana, arial, sans-serif')
    sections = "\n".join(
        f'<section id="{name}">{figures[name].to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}")}'
        "</section>" for name in CHARTS)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Post-loan monitoring report {last_day}</title>
<script>window.reportErrors = []; window.addEventListener("error", e => window.reportErrors.push(e.message));</script>
<script src="plotly.min.js"></script>
<style>{{font}}
body {{ font-family: "{FONT_FAMILY}", sans-serif; margin: 2em; }} section {{ margin-bottom: 2em; }}
#headline th {{ text-align: left; font-weight: normal; padding-right: 2em; }} #headline td {{ text-align: right; }}</style>
</head><body>
<h1>Post-loan monitoring (贷后管理) — book as of {html.escape(str(last_day))}</h1>
<p>Published {html.escape(f"{published_at:%Y-%m-%d %H:%M}")} UTC from the validated marts.{quality}</p>
{_headline_html(figures_first)}
{sections}
<pre id="js-errors"></pre>
<script>document.getElementById("js-errors").textContent = window.reportErrors.join("\\n");</script>
</body></html>
"""
    text = page + "".join(json.dumps(f.to_plotly_json(), ensure_ascii=False, default=str) for f in figures.values())
    page = page.replace("{font}", embedded_font(text), 1)
    page_tmp = out_dir / ".index.html.tmp"
    page_tmp.write_text(page, encoding="utf-8")
    os.replace(page_tmp, out_dir / "index.html")
    return out_dir / "index.html"
