"""One asset per catalog stream, generated from the catalog.

All stream assets share one subsettable step: the sync engine fetches the selected streams in
parallel (sharing one rate budget) and writes them through one DuckDB writer. Selecting one
asset, a subset or all of them in the UI runs just those streams.

Every stream asset is partitioned by grant (``outreach_grants``): a partition's run syncs that
grant into its own DuckDB file with its own token lock and rate budget, so two grants sync at
once. One grant never syncs twice at once: the instance's run queue allows one run per value of
the ``dagster/partition`` tag (``dagster.yaml``), which Dagster puts on every partition's run.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection

from outreach_pipeline.auth import AuthError, ReauthorizationRequired, grant_named
from outreach_pipeline.catalog import Stream, catalog
from outreach_pipeline.client import ApiUnusable
from outreach_pipeline.defs.checks import check_specs, data_checks, timestamp_column
from outreach_pipeline.defs.grants import GRANTS
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.defs.lineage import dependency_order, upstream_streams
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.run_log import RunLogProgress
from outreach_pipeline.landing import SCHEMA, columns, table_name
from outreach_pipeline.settings import SettingsError
from outreach_pipeline.sync import StreamResult, tune_process_memory

GROUP = "outreach"
PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 7
# What a person recognises a record by, one role per entry, each a list of (column source, API
# name) candidates in preference order: its name, e-mail (or phone number, web domain), title,
# stage or state, owner.
RECOGNISABLE: tuple[tuple[tuple[str, str], ...], ...] = (
    (("attribute", "name"), ("attribute", "displayName"), ("attribute", "subject"),
     ("attribute", "symbolicName")),
    (("attribute", "email"), ("attribute", "emails"), ("attribute", "number"),
     ("attribute", "domain")),
    (("attribute", "title"),),
    (("relationship", "stage"), ("attribute", "state"), ("attribute", "status")),
    (("relationship", "owner"), ("relationship", "user")),
)  # fmt: skip

# The nightly sync keeps every stream under a day old: warn when one is 36 hours old,
# fail after three missed nights.
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=72), warn_window=timedelta(hours=36)
)
# Transient trouble (network, 5xx beyond the client's own retries, a locked file) gets the
# step retried a few times; a grant needing a person or bad settings fail without retries.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class SyncConfig(dg.Config):
    full_refresh: bool = False
    """Fetch everything again, ignoring the saved cursors."""
    sweep_deletes: bool = False
    """Also list every id and mark rows deleted in Outreach as deleted."""
    tune_process_memory: bool = False
    """Tune the run's process for a long sync (fewer garbage collections, Arrow on the C
    allocator, two malloc arenas: faster, and a lower peak at scale). Off by default: it changes
    the whole process, so only for a run worker of its own (Dagster's default executor)."""


def column_order(stream: Stream) -> list[str]:
    """The table's columns as the UI lists them: first the ones a person recognises a record by
    (its name, e-mail, title, stage or state, owner, when it last changed), then ``id`` and the
    others in catalog order."""
    data = columns(stream)
    recognisable = []
    for candidates in RECOGNISABLE:
        found = next(
            (c.name for want in candidates for c in data if (c.source, c.api_name) == want), None
        )
        if found is not None:
            recognisable.append(found)
    newest = timestamp_column(stream)
    if newest is not None:
        recognisable.append(newest)
    return list(dict.fromkeys([*recognisable, "id", *(c.name for c in data)]))


def preview_columns(stream: Stream) -> list[str]:
    return column_order(stream)[:PREVIEW_COLUMNS]


def table_schema(stream: Stream) -> dg.TableSchema:
    """The table's columns, in ``column_order``, then the bookkeeping ones."""
    by_name = {
        "id": dg.TableColumn(
            "id", "BIGINT", constraints=dg.TableColumnConstraints(nullable=False, unique=True)
        ),
        **{
            c.name: dg.TableColumn(c.name, c.sql_type, description=f"{c.source} {c.api_name}")
            for c in columns(stream)
        },
    }
    return dg.TableSchema(
        columns=[
            *(by_name[name] for name in column_order(stream)),
            dg.TableColumn("_extra", "JSON", description="attributes the catalog does not know"),
            dg.TableColumn("_synced_at", "TIMESTAMP", description="when the row was written"),
            dg.TableColumn("_deleted_at", "TIMESTAMP", description="set by the delete sweep"),
        ]
    )


def stream_spec(stream: Stream) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=asset_key(stream),
        group_name=GROUP,
        kinds={"outreach", "duckdb"},
        description=stream.summary,
        deps=[asset_key(catalog()[path]) for path in upstream_streams()[stream.path]],
        freshness_policy=FRESHNESS,
        metadata={
            "outreach/scope": stream.scope,
            "outreach/path": f"/api/v2/{stream.path}",
            "outreach/cursor": stream.cursor or "none (full reload)",
            "dagster/column_schema": table_schema(stream),
            "dagster/table_name": f"{SCHEMA}.{stream.table}",
        },
    )


STREAMS = catalog()


def markdown_preview(con: DuckDBPyConnection, stream: Stream) -> str:
    """The newest rows, a few columns wide, as a markdown table."""
    names = preview_columns(stream)
    newest = timestamp_column(stream)
    order = f'"{newest}" DESC NULLS LAST, id DESC' if newest else "_synced_at DESC, id DESC"
    quoted = ", ".join(f'"{n}"' for n in names)
    rows = con.execute(
        f"SELECT {quoted} FROM {table_name(stream)} WHERE _deleted_at IS NULL "
        f"ORDER BY {order} LIMIT {PREVIEW_ROWS}"
    ).fetchall()

    def cell(value: object) -> str:
        text = "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 40 else text[:39] + "…"

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def stream_metadata(
    con: DuckDBPyConnection, stream: Stream, result: StreamResult
) -> dict[str, Any]:
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE _deleted_at IS NULL), count(*) FILTER "
        f"(WHERE _deleted_at IS NOT NULL) FROM {table_name(stream)}"
    ).fetchone()
    live, deleted = row if row else (0, 0)
    return {
        "dagster/row_count": dg.MetadataValue.int(live),
        "rows_marked_deleted": dg.MetadataValue.int(deleted),
        "records_inserted": result.records_inserted,
        "records_updated": result.records_updated,
        "records_deleted": result.records_deleted,
        "records_refetched": result.records_refetched,
        "requests": result.requests,
        "pages": result.pages,
        "chains": result.chains,
        "rate_limit_remaining": result.rate_limit_remaining,
        "cursor_before": result.cursor_before,
        "cursor_after": result.cursor_after,
        "duration_s": dg.MetadataValue.float(round(result.duration_s, 3)),
        "preview": dg.MetadataValue.md(markdown_preview(con, stream)),
    }


def _sync(
    context: dg.AssetExecutionContext,
    outreach: OutreachResource,
    streams: list[Stream],
    duckdb_path: str,
    grant: str,
    config: SyncConfig,
) -> list[StreamResult]:
    """The sync, its progress in the run's log; what only a person can fix fails at once,
    without step retries."""
    if config.tune_process_memory:
        tune_process_memory()
    try:
        return outreach.sync(
            streams,
            duckdb_path,
            grant=grant,
            full_refresh=config.full_refresh,
            sweep_deletes=config.sweep_deletes,
            progress=RunLogProgress(context.log.info, context.log.warning),
        )
    except ReauthorizationRequired as error:
        raise dg.Failure(
            description=f"The Outreach grant{grant_named(grant)} needs reauthorization: {error}",
            allow_retries=False,
        ) from None
    except AuthError as error:
        # The token endpoint failing or answering oddly may pass: the step's retries apply.
        raise dg.Failure(description=f"Outreach authorization failed: {error}") from None
    except SettingsError as error:
        raise dg.Failure(description=f"Bad setting: {error}", allow_retries=False) from None
    except ApiUnusable as error:
        raise dg.Failure(description=error.problem) from None  # it may be down for a while


@dg.multi_asset(
    name="outreach_streams",
    specs=[stream_spec(s) for s in STREAMS.values()],
    check_specs=[spec for s in STREAMS.values() for spec in check_specs(s)],
    can_subset=True,
    partitions_def=GRANTS,
    retry_policy=TRANSIENT_RETRY,
)
def outreach_streams(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    outreach: OutreachResource,
    duckdb: DuckDBResource,
) -> Iterator[dg.MaterializeResult]:
    """Sync the selected Outreach streams of the partition's grant into its DuckDB file, then
    check what landed there."""
    grant = context.partition_key
    streams = [s for s in STREAMS.values() if asset_key(s) in context.selected_asset_keys]
    started_at = datetime.now(UTC).replace(tzinfo=None)
    results = _sync(context, outreach, streams, duckdb.database, grant, config)
    checks = set(context.selected_asset_check_keys)
    by_path = dict(zip((s.path for s in streams), results, strict=True))
    landing = outreach.settings_for(duckdb.database, grant).grant_duckdb_path
    grant_duckdb = DuckDBResource(database=str(landing), connection_config=duckdb.connection_config)
    with grant_duckdb.get_connection() as con:
        for stream in dependency_order(streams):
            result = by_path[stream.path]
            if not result.ok:
                continue
            yield dg.MaterializeResult(
                asset_key=asset_key(stream),
                metadata=stream_metadata(con, stream, result),
                check_results=list(data_checks(con, stream, started_at, checks)),
            )
    failed = [r for r in results if not r.ok]
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(results)} streams failed",
            metadata={r.stream: r.error or "" for r in failed},
        )
