import os

from dagster_dbt import DbtProject

from dagster_project.lib.settings import DBT_DIR
from dagster_project.pipeline import prepare_dbt

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
if os.getenv("DAGSTER_IS_DEV_CLI"):  # `dg dev`: parse the models as edited, with this environment's dbt
    prepare_dbt()
