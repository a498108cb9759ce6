from dagster_project.lib.contract import LEDGERS
from dagster_project.lib.contract_docs import MARKDOWN_PATH, SOURCES_PATH, render_markdown, render_sources_yml


def test_generated_contract_files_are_up_to_date():
    """Run `lending contract-docs` after editing lib/contract.py."""
    assert MARKDOWN_PATH.read_text(encoding="utf-8") == render_markdown()
    assert SOURCES_PATH.read_text(encoding="utf-8") == render_sources_yml()


def test_every_column_is_documented():
    text = render_markdown()
    for ledger in LEDGERS.values():
        assert f"## {ledger.name}" in text
        for column in ledger.columns:
            assert f"| {column.name}" in text
