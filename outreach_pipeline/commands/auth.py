"""`outreach-pipeline auth login|status|logout`: authorize, inspect and forget the Outreach grant.

Nothing here prints a secret: tokens and the client secret are never shown, only facts about them.
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
    duration,
    login,
    open_token_store,
    unreachable_streams,
)
from outreach_pipeline.catalog import catalog, scopes_for, select
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.settings import Settings, load_settings


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    login_parser = actions.add_parser("login", help="authorize in the browser and store the grant")
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
    actions.add_parser("status", help="show the stored grant (never its secrets)").set_defaults(
        handler=run_status
    )
    actions.add_parser("logout", help="forget the stored grant").set_defaults(handler=run_logout)


def run_login(args: argparse.Namespace) -> int:
    settings = load_settings()
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
    print(f"Grant stored in {settings.grant_token_store_path}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.s2s is not None:
        return _print_s2s_status(settings)
    try:
        grant = open_token_store(settings).load()
    except AuthError as error:
        raise UserFacingError(str(error)) from None
    now = time.time()
    health = assess_grant(grant, now)
    print(f"Token store: {settings.grant_token_store_path}")
    if grant is not None:
        _print_grant(grant, health, now)
    for warning in health.warnings:
        print(f"Warning: {warning}")
    if health.needs_reauthorization:
        since = f" since {_when(health.since, now)}" if health.since is not None else ""
        print(f"Needs reauthorization: yes{since}: {health.reason}")
        print("Run `outreach-pipeline auth login` to authorize.")
        return 1
    print("Needs reauthorization: no")
    return 0


def _print_grant(grant: Grant, health: GrantHealth, now: float) -> None:
    who = " ".join(
        part
        for part in (
            f"user {grant.user_id}" if grant.user_id is not None else "",
            f"<{grant.user_email}>" if grant.user_email else "",
        )
        if part
    )
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
    settings = load_settings()
    store = open_token_store(settings)
    with store.lock():
        forgotten = store.delete()
    if not forgotten:
        print("No grant was stored.")
        return 0
    print(f"Forgot the grant stored in {settings.grant_token_store_path}.")
    print("To end it on Outreach's side too, remove the app's access in Outreach's settings.")
    return 0


def _when(epoch: float, now: float) -> str:
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    gap = epoch - now
    relative = f"in {duration(gap)}" if gap >= 0 else f"{duration(-gap)} ago"
    return f"{stamp} ({relative})"
