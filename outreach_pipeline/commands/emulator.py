"""`outreach-pipeline emulator`: run the Outreach API emulator until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from outreach_emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DOCUMENTED_TOKEN_MINT_INTERVAL,
    LATENCY_PROFILES,
    Emulator,
    EmulatorConfig,
    OrgSpec,
    numbered_orgs,
)
from outreach_pipeline.commands.errors import UserFacingError


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve emulated Outreach orgs (one by default) until SIGTERM or Ctrl-C. "
        "Prints its base URL on start."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="0", help="0 picks a free port (default)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=2000, help="number of prospects")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument(
        "--client-secret", default=DEFAULT_CLIENT_SECRET, help="default: a secret with +&=/%%"
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        help=f"registered redirect URI, repeatable (default {DEFAULT_REDIRECT_URI})",
    )
    parser.add_argument("--auto-consent", action="store_true", help="skip the consent page")
    parser.add_argument("--access-token-ttl", type=int, default=7200)
    parser.add_argument("--rate-limit", type=int, default=10_000, help="requests/hour/user")
    parser.add_argument(
        "--rate-limit-window",
        type=int,
        default=3600,
        help="seconds of the rate limit's 'hour' (shorter: the budget binds sooner)",
    )
    parser.add_argument("--refresh-mode", choices=("single_use", "lenient"), default="single_use")
    parser.add_argument(
        "--token-mint-interval",
        type=float,
        default=DOCUMENTED_TOKEN_MINT_INTERVAL,
        help="least seconds between two tokens minted for one user, else 429 (0: no limit)",
    )
    parser.add_argument(
        "--old-access-tokens",
        choices=("revoke", "keep"),
        default="revoke",
        help="what a refresh does to the access token it replaces (default: revoke)",
    )
    parser.add_argument(
        "--warm", action="store_true", help="serialize every record before serving (uses all cores)"
    )
    parser.add_argument(
        "--faults",
        choices=("none", "realistic", "hostile"),
        default="none",
        help="misbehave as the real API does (docs/emulator.md says what each profile holds)",
    )
    parser.add_argument(
        "--latency-profile",
        choices=sorted(LATENCY_PROFILES),
        default="none",
        help="latency drawn per request, longer for bigger pages (see docs/emulator.md)",
    )
    parser.add_argument("--dev-client-id")
    parser.add_argument("--dev-client-secret")
    parser.add_argument("--s2s-guid")
    parser.add_argument("--s2s-install-id")
    parser.add_argument("--s2s-public-key", type=Path, help="PEM file of the app's RSA public key")
    orgs = parser.add_mutually_exclusive_group()
    orgs.add_argument(
        "--orgs",
        type=int,
        help="serve N orgs org1..orgN (org k: seed+k-1, scale/k); default: one org",
    )
    orgs.add_argument(
        "--org",
        action="append",
        dest="org_specs",
        metavar="NAME[:SCALE[:SEED[:RATE_LIMIT]]]",
        help="an org to serve, repeatable (first is the default org; seed default: --seed + "
        "its position, scale default: --scale, rate limit default: --rate-limit)",
    )
    parser.set_defaults(handler=run)


def port_number(text: str) -> int:
    """The ``--port`` to listen on, 0..65535 (0: any free one)."""
    port = int(text) if text.strip().isdigit() else -1
    if not 0 <= port <= 65535:
        raise UserFacingError(f"--port must be 0..65535 (0: any free port), got {text!r}")
    return port


def orgs_from(args: argparse.Namespace) -> tuple[OrgSpec, ...]:
    """The orgs ``--orgs`` or ``--org`` ask for; none (one default org) when neither is given."""
    if args.orgs is not None:
        return numbered_orgs(args.orgs, args.seed, args.scale)
    return tuple(
        OrgSpec.parse(text, args.seed + position, args.scale)
        for position, text in enumerate(args.org_specs or ())
    )


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    key = args.s2s_public_key.read_text() if args.s2s_public_key else None
    try:
        return EmulatorConfig(
            orgs=orgs_from(args),
            seed=args.seed,
            scale=args.scale,
            client_id=args.client_id,
            client_secret=args.client_secret,
            redirect_uris=tuple(args.redirect_uris or (DEFAULT_REDIRECT_URI,)),
            dev_client_id=args.dev_client_id,
            dev_client_secret=args.dev_client_secret,
            auto_consent=args.auto_consent,
            access_token_ttl=args.access_token_ttl,
            refresh_mode=args.refresh_mode,
            token_mint_interval=args.token_mint_interval,
            old_access_tokens=args.old_access_tokens,
            rate_limit=args.rate_limit,
            rate_limit_window=args.rate_limit_window,
            s2s_guid=args.s2s_guid,
            s2s_public_key_pem=key,
            s2s_install_id=args.s2s_install_id,
            warm=args.warm,
        )
    except ValueError as error:
        raise UserFacingError(str(error)) from error


def run(args: argparse.Namespace) -> int:
    port = port_number(args.port)
    emulator = Emulator(config_from(args))
    emulator.faults.use_profile(args.faults)
    emulator.faults.set(latency_profile=args.latency_profile)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with emulator.serve(host=args.host, port=port):
            print(
                f"Outreach emulator listening on {emulator.base_url} "
                f"(api: {emulator.api_url}, oauth: {emulator.oauth_url})",
                flush=True,
            )
            if len(emulator.orgs) > 1:
                print(f"orgs: {describe_orgs(emulator)}", flush=True)
            stop.wait()
    except KeyboardInterrupt:
        pass
    except OSError as error:
        raise UserFacingError(f"cannot listen on {args.host}:{args.port}: {error}") from error
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def describe_orgs(emulator: Emulator) -> str:
    """``acme (seed 1, scale 2000, users 1..20), ...``: what a consent's ``login_hint`` names."""
    described = []
    for name, org in emulator.orgs.items():
        users = org.user_ids()
        described.append(
            f"{name} (seed {org.spec.seed}, scale {org.spec.scale}, users {users[0]}..{users[-1]})"
        )
    return ", ".join(described)
