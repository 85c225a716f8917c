"""`outreach-pipeline auth login|status|logout|list`: authorize, inspect and forget Outreach grants.

Each command acts on one grant: ``--grant NAME``, else ``OUTREACH_GRANT``, else ``default``,
whose output is what it was before grants had names. ``auth list`` and ``auth status --all``
cover every stored grant. Nothing here prints a secret: tokens and the client secret are never
shown, only facts about them.
"""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from datetime import UTC, datetime

from outreach_pipeline.auth import (
    DEFAULT_LOGIN_TIMEOUT,
    AuthError,
    Grant,
    GrantHealth,
    assess_grant,
    assess_stored_grant,
    duration,
    grant_named,
    login,
    login_command,
    open_token_store,
    stored_grant_names,
    unreachable_streams,
)
from outreach_pipeline.catalog import catalog, scopes_for, select
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.settings import DEFAULT_GRANT, Settings, load_settings


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    login_parser = actions.add_parser("login", help="authorize in the browser and store the grant")
    _grant_option(login_parser)
    login_parser.add_argument(
        "--no-browser", action="store_true", help="print the URL without opening a browser"
    )
    login_parser.add_argument(
        "--streams",
        help="comma-separated streams to ask scopes for (default: all but the admin-only "
        "complianceRequests and webhooks)",
    )
    login_parser.add_argument(
        "--credentials",
        choices=("production", "development"),
        help="which credential pair authorizes (default: the first configured)",
    )
    login_parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_LOGIN_TIMEOUT,
        help="seconds to wait for the redirect (default %(default).0f)",
    )
    login_parser.set_defaults(handler=run_login)
    status_parser = actions.add_parser("status", help="show the stored grant (never its secrets)")
    chosen = status_parser.add_mutually_exclusive_group()
    _grant_option(chosen)
    chosen.add_argument("--all", action="store_true", help="every stored grant, one after another")
    status_parser.set_defaults(handler=run_status)
    logout_parser = actions.add_parser("logout", help="forget the stored grant")
    _grant_option(logout_parser)
    logout_parser.set_defaults(handler=run_logout)
    actions.add_parser(
        "list", help="the stored grants: name, state, expiry, who authorized (never tokens)"
    ).set_defaults(handler=run_list)


def _grant_option(parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    parser.add_argument(
        "--grant",
        metavar="NAME",
        help="which grant (default: OUTREACH_GRANT, else `default`)",
    )


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, for the grant ``--grant`` names if given."""
    settings = load_settings()
    return settings if args.grant is None else settings.for_grant(args.grant)


def run_login(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        streams = select(args.streams)
    except KeyError as error:
        raise UserFacingError(str(error.args[0])) from None
    try:
        grant = login(
            settings,
            args.credentials,
            scopes_for(streams),
            show=lambda text: print(text, flush=True),
            open_browser=None if args.no_browser else webbrowser.open,
            stdin=sys.stdin,
            timeout=args.timeout,
        )
    except AuthError as error:
        raise UserFacingError(str(error)) from None
    print(f"Authorized ({grant.credential_kind} credentials); scopes: {' '.join(grant.scopes)}")
    print(f"Grant{grant_named(settings.grant)} stored in {settings.grant_token_store_path}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.s2s is not None:
        return _print_s2s_status(settings)
    if not args.all:
        return _print_status(settings)
    names = _stored_names(settings)
    if not names:
        print(f"No grant is stored. Run `{login_command(settings.grant)}` to authorize.")
        return 1
    worst = 0
    for number, name in enumerate(names):
        if number:
            print()
        print(f"== grant {name} ==")
        try:
            worst = max(worst, _print_status(settings.for_grant(name)))
        except UserFacingError as error:  # one unreadable grant does not hide the others
            print(f"Needs reauthorization: yes: {error}")
            worst = 1
    return worst


def _stored_names(settings: Settings) -> list[str]:
    try:
        return stored_grant_names(settings)
    except AuthError as error:
        raise UserFacingError(str(error)) from None


def _print_status(settings: Settings) -> int:
    try:
        grant = open_token_store(settings).load()
    except AuthError as error:
        raise UserFacingError(str(error)) from None
    now = time.time()
    health = assess_grant(grant, now)
    if settings.grant != DEFAULT_GRANT:
        print(f"Grant: {settings.grant}")
    print(f"Token store: {settings.grant_token_store_path}")
    if grant is not None:
        _print_grant(grant, health, now)
    for warning in health.warnings:
        print(f"Warning: {warning}")
    if health.needs_reauthorization:
        since = f" since {_when(health.since, now)}" if health.since is not None else ""
        print(f"Needs reauthorization: yes{since}: {health.reason}")
        print(f"Run `{login_command(settings.grant)}` to authorize.")
        return 1
    print("Needs reauthorization: no")
    return 0


def _print_grant(grant: Grant, health: GrantHealth, now: float) -> None:
    who = _who(grant)
    print(f"Credentials: {grant.credential_kind}")
    print(f"Authorized by: {who or 'unknown (the token does not name the user)'}")
    print(f"Scopes: {' '.join(grant.scopes)}")
    print(f"Granted: {_when(grant.granted_at, now)}")
    refreshed = "never" if grant.refreshed_at is None else _when(grant.refreshed_at, now)
    print(f"Last refresh: {refreshed}")
    print(f"Access token expires: {_when(grant.access_expires_at, now)}")
    if health.refresh_token_expires_at is not None:
        print(f"Refresh token expires if unused: {_when(health.refresh_token_expires_at, now)}")
    if health.development_expires_at is not None:
        print(
            "Development grant expires (weekly, for users outside the app's org): about "
            f"{_when(health.development_expires_at, now)}"
        )


def _print_s2s_status(settings: Settings) -> int:
    assert settings.s2s is not None
    print("Authentication: S2S (app) tokens, obtained on demand; nothing is stored")
    print(f"S2S GUID: {settings.s2s.guid}; install: {settings.s2s.install_id}")
    print(f"Private key: {settings.s2s.private_key_path}")
    skipped = unreachable_streams(settings, list(catalog().values()))
    print(f"Streams S2S cannot reach (skipped): {', '.join(skipped) or 'none'}")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_token_store(settings)
    try:
        with store.lock():
            forgotten = store.delete()
    except AuthError as error:
        raise UserFacingError(str(error)) from None
    name = grant_named(settings.grant)
    if not forgotten:
        print(f"No grant{name} was stored.")
        return 0
    print(f"Forgot the grant{name} stored in {settings.grant_token_store_path}.")
    print("To end it on Outreach's side too, remove the app's access in Outreach's settings.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per stored grant: name, state, access token expiry, who authorized it."""
    settings = load_settings()
    names = _stored_names(settings)
    if not names:
        print(f"No grant is stored. Run `{login_command(settings.grant)}` to authorize.")
        return 0
    now = time.time()
    rows = [("GRANT", "STATE", "ACCESS TOKEN EXPIRES", "AUTHORIZED BY")]
    for name in names:
        rows.append(_list_row(settings.for_grant(name), now))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _list_row(settings: Settings, now: float) -> tuple[str, str, str, str]:
    health = assess_stored_grant(settings, now)  # an unreadable grant needs reauthorization
    try:
        grant = open_token_store(settings).load()
    except AuthError:
        grant = None
    state = "needs reauthorization" if health.needs_reauthorization else "ok"
    if health.warnings and not health.needs_reauthorization:
        state = "ok (warning)"
    expires = "-" if grant is None else _when(grant.access_expires_at, now)
    return (settings.grant, state, expires, "-" if grant is None else _who(grant))


def _who(grant: Grant) -> str:
    """Who authorized ``grant``, as far as its token said; empty when unknown."""
    return " ".join(
        part
        for part in (
            f"user {grant.user_id}" if grant.user_id is not None else "",
            f"<{grant.user_email}>" if grant.user_email else "",
        )
        if part
    )


def _when(epoch: float, now: float) -> str:
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    gap = epoch - now
    relative = f"in {duration(gap)}" if gap >= 0 else f"{duration(-gap)} ago"
    return f"{stamp} ({relative})"
