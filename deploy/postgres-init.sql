-- Two databases, two roles (docs/operations.md, "Production layout"): Airflow's role cannot
-- read the registry, the gateway's role cannot touch Airflow's tables. Passwords come from
-- the compose file's environment (psql variables), never from this file.
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE ROLE jamsos LOGIN PASSWORD :'jamsos_password';
CREATE DATABASE airflow OWNER airflow;
CREATE DATABASE jamsos OWNER jamsos;
REVOKE ALL ON DATABASE jamsos FROM PUBLIC;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
