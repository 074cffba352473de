"""The Glue Data Catalog through the emulator: moto stores it, labkit decides glue:* on the
catalog, database and table ARNs (AWS Glue "Specifying AWS Glue resource ARNs"; Athena
"Configure access to databases and tables in the AWS Glue Data Catalog": an action needs
the permission on the resource and on each of its ancestors)."""
from __future__ import annotations

import botocore.exceptions
import pytest

from tests.emulator.support import user_keys

REGION = "us-east-1"


def _arn(em, kind: str, name: str = "") -> str:
    return f"arn:aws:glue:{REGION}:{em.account_id}:{kind}" + (f"/{name}" if name else "")


@pytest.fixture(scope="module")
def catalog(em):
    glue = em.client("glue", region=REGION)
    glue.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "customers"):
        glue.create_table(DatabaseName="sales", TableInput={
            "Name": name, "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}],
                                  "Location": f"s3://lake/{name}/"},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}]})
    glue.batch_create_partition(DatabaseName="sales", TableName="orders", PartitionInputList=[
        {"Values": ["2026-01-01"],
         "StorageDescriptor": {"Location": "s3://lake/orders/dt=2026-01-01/"}}])
    return glue


def _denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def test_get_table_needs_catalog_database_and_table(em, catalog):
    user_arn = f"arn:aws:iam::{em.account_id}:user/glue-one-table"
    keys = user_keys(em, "glue-one-table", {
        "Effect": "Allow", "Action": ["glue:GetTable", "glue:GetPartitions"],
        "Resource": [_arn(em, "catalog"), _arn(em, "database", "sales"),
                     _arn(em, "table", "sales/orders")]})
    glue = em.client("glue", *keys, region=REGION)
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://lake/orders/"
    parts = glue.get_partitions(DatabaseName="sales", TableName="orders")["Partitions"]
    assert [p["Values"] for p in parts] == [["2026-01-01"]]
    code, message = _denied(lambda: glue.get_table(DatabaseName="sales", Name="customers"))
    assert code == "AccessDeniedException"
    assert message == (f"User: {user_arn} is not authorized to perform: glue:GetTable on "
                       f"resource: \"{_arn(em, 'table', 'sales/customers')}\" because no "
                       "identity-based policy allows the glue:GetTable action")


def test_the_table_alone_is_not_enough(em, catalog):
    # Without the catalog and the database (its ancestors) the table's grant does nothing.
    keys = user_keys(em, "glue-table-only", {
        "Effect": "Allow", "Action": "glue:GetTable",
        "Resource": _arn(em, "table", "sales/orders")})
    glue = em.client("glue", *keys, region=REGION)
    code, message = _denied(lambda: glue.get_table(DatabaseName="sales", Name="orders"))
    assert code == "AccessDeniedException"
    assert f"on resource: \"{_arn(em, 'catalog')}\" because" in message


def test_listing_needs_the_listed_resources(em, catalog):
    keys = user_keys(em, "glue-lister", {
        "Effect": "Allow", "Action": ["glue:GetDatabases", "glue:GetTables"],
        "Resource": [_arn(em, "catalog"), _arn(em, "database", "*"),
                     _arn(em, "table", "sales/*")]})
    glue = em.client("glue", *keys, region=REGION)
    assert "sales" in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    names = sorted(t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"])
    assert names == ["customers", "orders"]
    code, message = _denied(lambda: glue.get_tables(DatabaseName="other"))
    assert code == "AccessDeniedException" and _arn(em, "table", "other/*") in message


def test_delete_database_reaches_its_tables(em, catalog):
    # A delete needs the permission on the resource's descendants too.
    keys = user_keys(em, "glue-dropper", {
        "Effect": "Allow", "Action": "glue:DeleteDatabase",
        "Resource": [_arn(em, "catalog"), _arn(em, "database", "sales")]})
    glue = em.client("glue", *keys, region=REGION)
    code, message = _denied(lambda: glue.delete_database(Name="sales"))
    assert code == "AccessDeniedException" and _arn(em, "table", "sales/*") in message
    assert catalog.get_database(Name="sales")["Database"]["Name"] == "sales"
