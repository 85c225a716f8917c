"""Each data check on a landing that breaks it, and the reauthorization failure of the step."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.catalog import stream
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.checks import (
    ids_unique,
    no_future_rows,
    relationships_found,
)
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.settings import DEFAULT_GRANT


@pytest.fixture
def landed(resources: dict[str, Any], db_path: Path, instance: dg.DagsterInstance) -> Path:
    """Users and mailboxes (whose ``user_id`` points at users) synced into the landing."""
    selection = [asset_key(stream("users")), asset_key(stream("mailboxes"))]
    result = dg.materialize(
        [outreach_streams],
        selection=selection,
        resources=resources,
        instance=instance,
        partition_key=DEFAULT_GRANT,
    )
    assert result.success
    return db_path


def test_ids_unique_fails_on_a_repeated_id(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "dupes.duckdb")) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute("CREATE TABLE outreach.duties AS SELECT * FROM (VALUES (1), (2), (2)) t(id)")
        result = ids_unique(con, stream("duties"))
    assert not result.passed
    assert result.metadata["duplicate_ids"].value == 1


def test_no_future_rows_fails_on_a_row_changed_after_the_run_started(landed: Path) -> None:
    started = datetime.now() - timedelta(minutes=1)
    users = stream("users")
    with duckdb.connect(str(landed)) as con:
        assert no_future_rows(con, users, started + timedelta(days=1)).passed
        con.execute(
            "UPDATE outreach.users SET updated_at = ? "
            "WHERE id = (SELECT min(id) FROM outreach.users)",
            [started + timedelta(hours=1)],
        )
        result = no_future_rows(con, users, started)
    assert not result.passed
    assert result.metadata["rows_newer_than_run"].value == 1
    assert result.metadata["column"].value == "updated_at"


def test_relationships_warn_on_an_id_missing_from_the_target_table(landed: Path) -> None:
    mailboxes = stream("mailboxes")
    with duckdb.connect(str(landed)) as con:
        assert relationships_found(con, mailboxes).passed
        con.execute(
            "UPDATE outreach.mailboxes SET user_id = 999999 "
            "WHERE id = (SELECT min(id) FROM outreach.mailboxes)"
        )
        result = relationships_found(con, mailboxes)
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["missing_ids_by_column"].value == {"user_id": 1}


def failure_without_retries(resources: dict[str, Any], instance: dg.DagsterInstance) -> str:
    """Materialize users expecting a failure; its description, after checking nothing retried."""
    result = dg.materialize(
        [outreach_streams],
        selection=[asset_key(stream("users"))],
        resources=resources,
        instance=instance,
        partition_key=DEFAULT_GRANT,
        raise_on_error=False,
    )
    assert not result.success
    kinds = [event.event_type for event in result.all_events]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds
    failure = result.failure_data_for_node(outreach_streams.op.name)
    assert failure is not None and failure.user_failure_data is not None
    return str(failure.user_failure_data.description)


def test_a_grant_needing_reauthorization_fails_at_once_without_retries(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    open_token_store(resources["outreach"].settings()).delete()

    assert "outreach-pipeline auth login" in failure_without_retries(resources, instance)


def test_a_bad_setting_fails_at_once_naming_the_variable(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    good = resources["outreach"]
    resources["outreach"] = OutreachResource(
        variables={**good.variables, "OUTREACH_API_URL": "not-a-url"}
    )

    assert "OUTREACH_API_URL" in failure_without_retries(resources, instance)
