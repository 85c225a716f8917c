"""Which grant a command works on: ``--grant NAME`` over ``OUTREACH_GRANT``, or every stored
grant (``sync --all-grants``, ``sql --all``)."""

from __future__ import annotations

import argparse

from outreach_pipeline.auth import stored_grant_names
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.settings import Settings, grant_name_problem


def add_grant_options(
    parser: argparse.ArgumentParser, one: str, every_flag: str, every: str
) -> None:
    """``--grant NAME`` (what the command does with it: ``one``) or ``every_flag`` (``every``),
    one of the two at most; the latter read as ``args.all_grants``."""
    grants = parser.add_mutually_exclusive_group()
    grants.add_argument(
        "--grant", metavar="NAME", help=f"{one} (default: OUTREACH_GRANT, else 'default')"
    )
    grants.add_argument(every_flag, action="store_true", dest="all_grants", help=every)


def chosen_grant(settings: Settings, name: str | None) -> Settings:
    """``settings`` for the grant ``--grant`` names (the settings' own grant when None)."""
    if name is None:
        return settings
    problem = grant_name_problem(name)
    if problem is not None:
        raise UserFacingError(f"--grant: {problem}")
    return settings.for_grant(name)


def every_stored_grant(settings: Settings) -> list[Settings]:
    """``settings`` for each grant the token store holds, ``default`` first."""
    names = stored_grant_names(settings)
    if not names:
        raise UserFacingError(
            f"no grant is stored beside {settings.token_store_path}: authorize one with "
            "'outreach-pipeline auth login --grant NAME'"
        )
    return [settings.for_grant(name) for name in names]
