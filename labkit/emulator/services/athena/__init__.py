"""Amazon Athena: SQL over the lab's S3, tables from the Glue Data Catalog, run by DuckDB.

- ``actions.py``: Athena requests -> athena:* on the workgroup ARN;
- ``gateway.py``: the query API (StartQueryExecution, GetQueryExecution, GetQueryResults,
  StopQueryExecution, ListQueryExecutions, BatchGetQueryExecution) answered here;
  workgroups and named queries are moto's;
- ``store.py``: query executions; ``workgroups.py``: a workgroup's settings in force;
- ``engine.py``: one statement planned (sqlglot: Trino -> DuckDB) and run (DuckDB);
- ``tables.py``: a Glue table read as DuckDB views over the objects the caller may read;
- ``ddl.py``: CREATE DATABASE / EXTERNAL TABLE, CTAS, DROP, SHOW, DESCRIBE, MSCK REPAIR;
- ``results.py``: QUERY_ID.csv and its .metadata written as the caller, result pages;
- ``failures.py``: Athena's error categories and messages.

Every S3, KMS and Glue call a query makes is made as the caller, through the pipeline
(labkit.emulator.authz.on_behalf), so policies, bucket policies, access points and
key policies decide it and CloudTrail records it (invokedBy athena.amazonaws.com).
"""
from labkit.emulator.services import Service

SERVICE = Service(("athena",), "json")
