"""``/_emulator/...``: the in-process controls over HTTP, for an emulator in another process.

GET    /_emulator/stats                      -> stats, record counts, grants, faults, clock
GET    /_emulator/clock                      -> {"now", "iso", "frozen"}
POST   /_emulator/clock                      {"advance": s} | {"set": epoch} | {"freeze": bool}
GET    /_emulator/records/<path>             -> {"data": [resources...]}   (?ids_only=true)
POST   /_emulator/records/<path>             {"attributes", "relationships"?} -> {"data"}
PATCH  /_emulator/records/<path>/<id>        {"attributes", "relationships"?, "silent"?} -> {"data"}
DELETE /_emulator/records/<path>/<id>        -> 204
       (every /records route takes ?org=NAME; default: the default org)
GET    /_emulator/orgs                       -> {name: usage} for every org
GET    /_emulator/orgs/<name>                -> that org's users, requests and 429s per user,
                                                tokens minted and live grants per user
POST   /_emulator/grants                     {"scopes", "user_id"?, "kind"?, "org"?} -> token body
POST   /_emulator/grants/revoke              {"token"} | {"user_id", "org"?} (that user's grants)
                                             | {} (all) -> {"revoked"}
POST   /_emulator/grants/expire              {"user_id", "org"?} -> {"expired"}  (grants lapse)
POST   /_emulator/grants/expire-access       {"user_id", "org"?} -> {"expired"}  (access tokens)
POST   /_emulator/grants/expire-development  -> {"expired"}
POST   /_emulator/grants/authorizing-user    {"user_id", "org"?} -> {"user_id", "org"}
GET    /_emulator/faults                     -> current fault settings
POST   /_emulator/faults                     {name: value, ...} -> settings
POST   /_emulator/faults/reset               -> settings
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from outreach_emulator.data import UnknownRecord
from outreach_emulator.messages import Request, Response, json_response

if TYPE_CHECKING:
    from outreach_emulator.service import Emulator


class AdminEndpoints:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, request: Request, route: str) -> Response:
        parts = route.strip("/").split("/")
        try:
            payload = request.json() if request.method in ("POST", "PATCH") else {}
            return self._dispatch(request.method, parts, payload or {}, request)
        except (ValueError, TypeError) as error:
            return json_response(400, {"error": str(error)})
        except (KeyError, UnknownRecord) as error:
            return json_response(404, {"error": str(error)})

    def _dispatch(
        self, method: str, parts: list[str], payload: dict[str, Any], request: Request
    ) -> Response:
        emu = self.emulator
        head = parts[0]
        if head == "stats" and method == "GET":
            return json_response(200, emu.stats)
        if head == "clock":
            return self._clock(method, payload)
        if head == "records":
            return self._records(method, parts[1:], payload, request)
        if head == "orgs" and method == "GET":
            if len(parts) > 1:
                return json_response(200, emu.org_usage(parts[1]))
            return json_response(200, {name: emu.org_usage(name) for name in emu.orgs})
        if head == "grants":
            return self._grants(method, parts[1:], payload)
        if head == "faults":
            if method == "POST" and parts[1:] == ["reset"]:
                emu.faults.reset()
            elif method == "POST":
                emu.faults.set(**payload)
            return json_response(200, emu.faults.snapshot())
        return json_response(404, {"error": "unknown admin endpoint"})

    def _clock(self, method: str, payload: dict[str, Any]) -> Response:
        clock = self.emulator.clock
        if method == "POST":
            if payload.get("freeze") is True:
                clock.freeze()
            elif payload.get("freeze") is False:
                clock.unfreeze()
            if "set" in payload:
                clock.set(float(payload["set"]))
            if "advance" in payload:
                clock.advance(float(payload["advance"]))
        return json_response(200, {"now": clock.now(), "iso": clock.iso(), "frozen": clock.frozen})

    def _records(
        self, method: str, parts: list[str], payload: dict[str, Any], request: Request
    ) -> Response:
        data = self.emulator.org(request.param("org")).data
        if not parts:
            return json_response(200, data.counts())
        path = parts[0]
        if len(parts) == 1 and method == "GET":
            if request.param("ids_only") == "true":
                return json_response(200, {"ids": data.ids(path)})
            return json_response(200, {"data": data.records(path)})
        if len(parts) == 1 and method == "POST":
            created = data.create(path, payload.get("attributes", {}), payload.get("relationships"))
            return json_response(201, {"data": created})
        record_id = int(parts[1])
        if method == "PATCH":
            updated = data.update(
                path,
                record_id,
                payload.get("attributes", {}),
                payload.get("relationships"),
                silent=payload.get("silent") is True,
            )
            return json_response(200, {"data": updated})
        if method == "DELETE":
            data.delete(path, record_id)
            return Response(204, b"", None)
        return json_response(200, {"data": data.resource(path, record_id)})

    def _grants(self, method: str, parts: list[str], payload: dict[str, Any]) -> Response:
        grants = self.emulator.grants
        action = parts[0] if parts else ""
        if method != "POST":
            return json_response(200, grants.summary())
        org = payload.get("org")
        if action == "":
            body = grants.issue(
                payload["scopes"],
                user_id=int(payload.get("user_id", 1)),
                kind=payload.get("kind", "production"),
                org=org,
            )
            return json_response(200, body)
        if action == "revoke":
            token = payload.get("token")
            if token:
                revoked = int(grants.revoke(token))
            elif "user_id" in payload:
                revoked = grants.revoke_user(org, int(payload["user_id"]))
            else:
                revoked = grants.revoke_all()
            return json_response(200, {"revoked": revoked})
        if action == "expire":
            return json_response(200, {"expired": grants.expire_user(org, int(payload["user_id"]))})
        if action == "expire-access":
            ended = grants.expire_access(org, int(payload["user_id"]))
            return json_response(200, {"expired": ended})
        if action == "expire-development":
            return json_response(200, {"expired": grants.expire_development()})
        if action == "authorizing-user":
            org_name, user_id = grants.authorize_as(org, int(payload["user_id"]))
            return json_response(200, {"user_id": user_id, "org": org_name})
        return json_response(404, {"error": "unknown grants action"})
