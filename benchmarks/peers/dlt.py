"""dlt's ``rest_api`` source, in its own venv, over the same streams and page sizes as ours,
loading into DuckDB. Only the URLs and credentials point it at the emulator.

Two contenders run the same pipeline script:

- **dlt**: configured as dlt's documentation recommends for speed (each setting below says
  which page asks for it), so that the comparison is with dlt at its best;
- **dlt-defaults**: the settings dlt ships with, as the harness ran it before issue 19.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.children import ChildOutcome
from benchmarks.emulator import Traffic
from benchmarks.measurements import Measurement
from benchmarks.peers.venvs import peer_venv
from benchmarks.setting import Setting, measure_child
from outreach_pipeline.catalog import default_streams

# "parquet" brings pyarrow, which the Parquet loader file format needs.
PACKAGES = ["dlt[duckdb,parquet]==1.31.0"]
PIPELINE = Path(__file__).with_name("dlt_pipeline.py")
CONTENDERS = ("dlt", "dlt-defaults")

# rest_api_source's arguments
# (https://dlthub.com/docs/dlt-ecosystem/verified-sources/rest_api/advanced):
TUNED_SOURCE: dict[str, Any] = {
    # "resource generators will be extracted in parallel with other resources": each page
    # request runs in dlt's extract thread pool instead of one resource after another.
    "parallelized": True,
    # Outreach records are {id, type, attributes{...}, relationships{...}, links}. At depth 1
    # the attributes become typed columns of one table per stream (as ours lands them), and
    # what lies deeper (each relationship, lists inside attributes) is loaded as JSON instead
    # of one nested table per list: unbounded, the normalizer builds and loads dozens of
    # child tables (the likely cause of the 12.4 GB peak seen with the defaults).
    "max_table_nesting": 1,
}
# pipeline.run's arguments: "If you are okay with installing pyarrow, we suggest switching
# to Parquet as the file format. Loading is faster (and also multithreaded)."
# (https://dlthub.com/docs/devel/dlt-ecosystem/destinations/duckdb, "Data loading"; the
# default is INSERT VALUES statements.)
TUNED_RUN: dict[str, Any] = {"loader_file_format": "parquet"}
# dlt's configuration, as environment variables
# (https://dlthub.com/docs/reference/performance):
TUNED_ENVIRONMENT = {
    # "The default buffer is actually set to a moderately low value (5000 items) ... you
    # might actually want to increase it to speed up processing" (extract and normalize).
    "DATA_WRITER__BUFFER_MAX_ITEMS": "20000",
    # "The default setting is to not rotate the files ... If you want such data to be
    # normalized and loaded in parallel, you must enable file rotation": the page's own
    # example value, for the extract and the normalize stage's files.
    "DATA_WRITER__FILE_MAX_ITEMS": "100000",
    # "The normalize stage uses a process pool ... The default is to not parallelize
    # normalization": one process per core. Extract, normalize and load run one after the
    # other, so normalizing has the machine to itself (the emulator is idle by then).
    # "spawn", as the page asks when threads are in use (the parallel extract's pool).
    "NORMALIZE__WORKERS": "2",
    "NORMALIZE__START_METHOD": "spawn",
    # Extract workers (default 5) and load workers (default 20) are left at their defaults:
    # five streams fetched at once is more than ours' four, and DuckDB serializes the COPY of
    # Parquet files into one table anyway.
}


def install() -> Path:
    return peer_venv("dlt-1.31.0", "3.11", PACKAGES)


def loaded_rows(outcome: ChildOutcome, _traffic: Traffic) -> int:
    """The total of the per-table row counts the pipeline printed last."""
    counts = json.loads(outcome.stdout.read_text().strip().splitlines()[-1])
    return sum(int(n) for n in counts.values())


def measure(setting: Setting, repeat: int, venv: Path, contender: str = "dlt") -> Measurement:
    """One run of the pipeline as ``contender`` (one of :data:`CONTENDERS`)."""
    tuned = contender == "dlt"
    folder = setting.folder(f"{contender}-{repeat}")
    emulator = setting.emulator
    config = {
        "api_url": emulator.api_url,
        "token_url": emulator.oauth_url + "/token",
        "database": str(folder / "dlt.duckdb"),
        "pipelines_dir": str(folder / "pipelines"),
        "streams": [
            {"path": s.path, "table": s.table, "page_size": s.page_size} for s in default_streams()
        ],
        "source_options": TUNED_SOURCE if tuned else {},
        "run_options": TUNED_RUN if tuned else {},
    }
    (folder / "config.json").write_text(json.dumps(config))
    env = {
        "BENCH_CLIENT_ID": emulator.client_id,
        "BENCH_CLIENT_SECRET": emulator.client_secret,
        "BENCH_REFRESH_TOKEN": setting.grant["refresh_token"],
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        **(TUNED_ENVIRONMENT if tuned else {}),
    }
    return measure_child(
        setting,
        contender,
        repeat,
        # -P: the script's folder (holding this dlt.py) must not shadow the dlt package
        [str(venv / "bin" / "python"), "-P", str(PIPELINE), str(folder / "config.json")],
        env=env,
        workdir=folder,
        records=loaded_rows,
    )
