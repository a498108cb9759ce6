"""Plain helpers that need no Dagster: the ledger contract, the loader, the quality rules, publication."""
