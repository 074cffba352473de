"""aws-like mode: a query is QUEUED, then RUNNING, for the mode's delay before it
SUCCEEDED (Athena API Reference, QueryExecutionStatus: QUEUED -> RUNNING -> a final
state); its results are not there before (InvalidRequestException)."""
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.services.athena.helpers import REGION, build_lake, rows, wait


def test_queued_then_running_then_succeeded(aws_like_em):
    build_lake(aws_like_em)
    athena = aws_like_em.client("athena", region=REGION)
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) AS n FROM orders",
        QueryExecutionContext={"Database": "sales"},
        ResultConfiguration={"OutputLocation": "s3://athena-results/q/"})["QueryExecutionId"]
    seen = []
    with pytest.raises(ClientError) as early:
        athena.get_query_results(QueryExecutionId=qid)
    assert early.value.response["Error"]["Message"].startswith("Query has not yet finished.")
    while not seen or seen[-1] not in ("SUCCEEDED", "FAILED"):
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if not seen or seen[-1] != state["State"]:
            seen.append(state["State"])
        time.sleep(0.05)
    assert seen == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert wait(athena, qid)["Statistics"]["DataScannedInBytes"] > 0
    assert rows(athena, qid) == [["n"], ["4"]]
