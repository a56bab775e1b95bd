"""Helpers the tests import by name: plain functions, classes and constants, no fixtures.

Fixtures stay in the `conftest.py` files (pytest finds them there); what a test module imports
lives here, so no test imports a conftest:

* `tests.helpers.roster`: valid roster rows and files (`HEADER`, `worker_row`, `write_roster`);
* `tests.helpers.web`: the dashboard's test login (`PASSWORD`, `csrf_of`, `log_in`);
* `tests.helpers.airflow`: the Airflow site the DAG tests drive (`AirflowSite`, `EXTRA_SOURCE`).
"""
