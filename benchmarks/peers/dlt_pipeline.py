"""dlt's ``rest_api`` source over the Outreach streams into DuckDB; runs inside dlt's venv.

    python dlt_pipeline.py CONFIG.json

CONFIG names ``api_url``, ``token_url``, ``database``, ``streams`` (path, table, page size),
and ``source_options`` and ``run_options``: keyword arguments for ``rest_api_source`` and
``pipeline.run`` (empty for dlt's defaults; see benchmarks/peers/dlt.py for the tuned ones);
the app credentials and refresh token come from ``BENCH_CLIENT_ID``, ``BENCH_CLIENT_SECRET`` and
``BENCH_REFRESH_TOKEN``. dlt has no refresh-token grant of its own, so this adds the smallest
one: its client-credentials class with the grant type changed and rotated refresh tokens kept.
Prints the rows loaded per table as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import dlt
import duckdb
from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from dlt.sources.rest_api import rest_api_source


@configspec
class OAuth2RefreshToken(OAuth2ClientCredentials):
    refresh_token: str = None  # type: ignore[assignment]

    def build_access_token_request(self) -> dict[str, Any]:
        return {
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "data": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
            },
        }

    def parse_access_token(self, response_json: Any) -> str:
        self.refresh_token = response_json.get("refresh_token", self.refresh_token)
        return str(response_json["access_token"])


def source(config: dict[str, Any]) -> Any:
    auth = OAuth2RefreshToken(
        access_token_url=config["token_url"],
        client_id=os.environ["BENCH_CLIENT_ID"],
        client_secret=os.environ["BENCH_CLIENT_SECRET"],
        refresh_token=os.environ["BENCH_REFRESH_TOKEN"],
    )
    return rest_api_source(
        {
            "client": {
                "base_url": config["api_url"].rstrip("/") + "/",
                "auth": auth,
                "paginator": {"type": "json_link", "next_url_path": "links.next"},
            },
            "resource_defaults": {"write_disposition": "replace"},
            "resources": [
                {
                    "name": stream["table"],
                    "endpoint": {
                        "path": stream["path"],
                        "params": {"page[size]": stream["page_size"], "count": "false"},
                        "data_selector": "data",
                    },
                }
                for stream in config["streams"]
            ],
        },
        **config["source_options"],
    )


def main() -> int:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    pipeline = dlt.pipeline(
        pipeline_name="outreach_bench",
        destination=dlt.destinations.duckdb(config["database"]),
        dataset_name="outreach",
        pipelines_dir=config["pipelines_dir"],
    )
    pipeline.run(source(config), **config["run_options"])
    with duckdb.connect(config["database"], read_only=True) as con:
        rows = {
            stream["table"]: (
                con.execute(f'SELECT count(*) FROM outreach."{stream["table"]}"').fetchone() or (0,)
            )[0]
            for stream in config["streams"]
        }
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
