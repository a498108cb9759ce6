"""BI's side: a SQLAlchemy client reads every published mart read only, the dbt exposures cover the
marts, and the monitoring report renders its charts in a real browser."""

import base64
import html
import io
import json
import re
import shutil
import subprocess

import duckdb
import pytest
from fontTools.ttLib import TTFont
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from dagster_project.lib.publish import published_file
from dagster_project.lib.quality import DATA_DOCS
from dagster_project.lib.report import CHARTS, FONT_FAMILY, REPORT_DIR
from dagster_project.lib.settings import DBT_DIR
from tests.conftest import query

pytestmark = pytest.mark.xdist_group("book")  # the shared book: tests/integration/conftest.py


def test_a_sqlalchemy_client_reads_every_mart_read_only(book):
    marts = {r[0] for r in query(book, "select table_name from information_schema.tables "
                                       "where table_schema = 'marts'")}
    path = published_file(book / "bi")
    with duckdb.connect(str(path), read_only=True) as con:
        expected = {mart: con.execute(f"select count(*) from {mart}").fetchone()[0] for mart in marts}
    engine = create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert marts <= tables and "publication" in tables
        for mart in sorted(marts):
            assert connection.execute(text(f"select count(*) from {mart}")).scalar() == expected[mart], mart
            columns = connection.execute(text(f"select * from {mart} limit 5")).keys()
            assert list(columns), mart
        with pytest.raises(DBAPIError, match="read-only"):
            connection.execute(text("create table scratch (x integer)"))
    engine.dispose()
    # a 12-month book has no complete 12-month backtest horizon yet; every other mart has rows
    assert {mart for mart, rows in expected.items() if not rows} <= {"fct_expected_loss_backtest"}


def test_the_dbt_exposures_name_every_mart():
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    exposed = {node.split(".")[-1] for e in manifest["exposures"].values() for node in e["depends_on"]["nodes"]}
    marts = {n["name"] for n in manifest["nodes"].values()  # what the publication copies
             if n["resource_type"] == "model" and n["schema"] == "marts" and n["config"]["materialized"] != "ephemeral"}
    assert len(manifest["exposures"]) >= 3 and marts == exposed


def rendered(page) -> str:
    """The page's DOM after its scripts ran in headless Chromium (this machine reaches no CDN: offline)."""
    assert page.exists()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "scripts/test.sh installs chromium"
    return subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180).stdout


def test_the_data_docs_load_nothing_from_the_internet_and_show_each_results_status(book):
    site = DATA_DOCS.parent
    pages = list(site.rglob("*.html"))
    remote = [p for p in pages if re.search(r'<(script|link)[^>]+(src|href)="https?://', p.read_text())]
    assert len(pages) > 10 and remote == []
    dom = rendered(DATA_DOCS)  # bootstrap-table draws the index's rows: without its script, a blank page
    rows = re.findall(r'<tr [^>]*data-href="validations/[^>]*>\s*<td[^>]*>(.*?)</td>', dom, flags=re.S)
    assert rows and all(re.search(r'class="fas fa-[a-z-]+', status) for status in rows)  # ✓, ✗ or ?
    assert (site / "static" / "offline" / "fontawesome" / "webfonts" / "fa-solid-900.woff2").exists()


def test_the_monitoring_report_renders_every_chart_in_chromium(book):
    dom = rendered(book / "bi" / REPORT_DIR / "index.html")
    assert re.search(r'<pre id="js-errors">\s*</pre>', dom), "the page raised JavaScript errors"
    backtested = query(book, "select count(*) from marts.fct_expected_loss_backtest "
                             "where actual_over_expected is not null")[0][0]
    for chart in CHARTS:
        section = dom.split(f'<section id="{chart}">')[1].split("</section>")[0]
        assert 'class="main-svg"' in section, f"{chart} did not render"
        if chart == "backtest" and not backtested:  # a 12-month book: no complete horizon yet, and it says so
            assert "No month end has a complete 12-month horizon yet" in section
            continue
        # plotted data, not an empty frame: heatmap images, bars or line paths
        assert re.search(r'class="(hm|point|trace scatter|bars)', section), chart
        assert 'class="g-xtitle"' in section and 'class="g-ytitle"' in section, f"{chart} has no axis titles"
    assert 'id="quality-results"' in dom
    # every non-ASCII character the browser shows, in the SVG charts too, has its glyph in the page itself:
    # this machine has no Chinese font, and neither may the reader's
    shown = {c for c in html.unescape(re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", dom, flags=re.S))
             if ord(c) > 0x7E}
    font = re.search(rf'font-family: "{FONT_FAMILY}"; src: url\(data:font/woff2;base64,([^)]+)\)', dom)
    assert font, "the page embeds no font"
    glyphs = {chr(code) for code in TTFont(io.BytesIO(base64.b64decode(font[1]))).getBestCmap()}
    assert {"贷", "逾", "Σ"} <= shown and not shown - glyphs, f"no embedded glyph for {shown - glyphs}"


def test_the_report_headline_figures_are_the_marts(book):
    page = (book / "bi" / REPORT_DIR / "index.html").read_text()
    shown = dict(re.findall(r'<td data-figure="([^"]+)">([^<]*)</td>', page))
    last_day, accounts, outstanding = query(
        book, "select as_of_date, count(*), sum(outstanding_principal) from marts.fct_loan_aging_daily "
              "where as_of_date = (select max(as_of_date) from marts.fct_loan_aging_daily) and status = 'active' "
              "group by 1")[0]
    par30, par90 = query(book, "select par30, par90 from marts.fct_portfolio_at_risk "
                               "where as_of_date = ? and asset_class = 'all'", [last_day])[0]
    loss_12m, m = query(book, "select sum(expected_loss_12m), sum(bad_debt_estimate) from marts.fct_expected_loss "
                              "where month_end = (select max(month_end) from marts.fct_expected_loss)")[0]
    assert shown["as of"] == str(last_day)
    assert shown["accounts"] == f"{accounts:,}" and shown["outstanding principal"] == f"{outstanding:,.0f}"
    assert (shown["PAR30"], shown["PAR90"]) == (f"{par30:.2%}", f"{par90:.2%}")
    assert shown["12-month expected loss"] == f"{loss_12m:,.0f}" and shown["M = Σ Mi·Pi (no LGD)"] == f"{m:,.0f}"
    assert float(loss_12m) > 0
