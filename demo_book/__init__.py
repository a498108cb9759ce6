"""A synthetic loan book for the demo, the tests and the benchmark: the ledgers of the contract
(dagster_project/lib/contract.py) for every day, with the truth they were planted from. Not part
of the production pipeline, which never imports it."""
