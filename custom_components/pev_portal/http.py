"""The session export as a download (the card's "Export CSV"), for a logged-in user.

``GET /api/pev_portal/export?start=...&end=...&format=csv|json``
``[&content=intervals|commands|events]``
``[&entry_id=...][&session_id=...]`` answers the same file the ``pev_portal.export_sessions``
action writes, as an attachment. Without ``start`` and ``end`` it covers the last 30 days. A CSV
holds the intervals, or with ``content=commands`` the smart-charging command audit trail, or
with ``content=events`` each event's performance on each session; a JSON export holds the
sessions, each with its ``commands`` and ``events``, and the intervals.

Every session is personal data: the view is for administrators (``require_admin``). Every
parameter is checked (a date beyond the calendar is a 400, not a 500), and the file name in
``Content-Disposition`` is sanitized (RFC 6266 ``filename*``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus

from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView, require_admin
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .services import EXPORT_CONTENTS, _coordinator, export_filename, export_text
from .validation import MAX_ID, content_disposition, to_utc

EXPORT_URL = "/api/pev_portal/export"
DEFAULT_DAYS = 30
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}


@callback
def async_setup_http(hass: HomeAssistant) -> None:
    """Register the export view (when Home Assistant's HTTP server is loaded)."""
    if getattr(hass, "http", None) is not None:
        hass.http.register_view(ExportView())


def _when(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    if len(text) > 64:
        raise ValueError(text[:64])
    try:
        parsed = dt_util.parse_datetime(text)
    except ValueError, OverflowError:
        parsed = None
    when = to_utc(parsed) if parsed is not None else None
    if when is None:
        raise ValueError(text)
    return when


class ExportView(HomeAssistantView):
    """Sessions and intervals as CSV or JSON."""

    url = EXPORT_URL
    name = "api:pev_portal:export"
    requires_auth = True

    @require_admin
    async def get(self, request: web.Request) -> web.Response:
        """The export of the requested range (and session)."""
        hass = request.app[KEY_HASS]
        query = request.query
        for name in ("entry_id", "session_id"):
            if len(query.get(name, "")) > MAX_ID:
                return self.json_message(f"{name} is too long", HTTPStatus.BAD_REQUEST)
        fmt = query.get("format", "csv")
        if fmt not in CONTENT_TYPES:
            return self.json_message("format must be csv or json", HTTPStatus.BAD_REQUEST)
        content = query.get("content", EXPORT_CONTENTS[0])
        if content not in EXPORT_CONTENTS:
            return self.json_message(
                "content must be intervals, commands or events", HTTPStatus.BAD_REQUEST
            )
        now = dt_util.utcnow()
        try:
            end = _when(query.get("end"), now + timedelta(days=1))
            start = _when(query.get("start"), now - timedelta(days=DEFAULT_DAYS))
        except ValueError as err:
            return self.json_message(
                f"not a date and time: {str(err)[:64]}", HTTPStatus.BAD_REQUEST
            )
        if end <= start:
            return self.json_message("end must be after start", HTTPStatus.BAD_REQUEST)
        try:
            coordinator = _coordinator(hass, query.get("entry_id"))
        except ServiceValidationError as err:
            return self.json_message(
                str(err) or err.translation_key or "no premise", HTTPStatus.BAD_REQUEST
            )
        sessions, intervals = await coordinator.async_export(start, end)
        if session_id := query.get("session_id"):
            sessions = [s for s in sessions if s.get("session_id") == session_id]
            intervals = [i for i in intervals if i[0] == session_id]
        text = export_text(sessions, intervals, fmt, content)
        filename = export_filename(start, end, fmt, content)
        if session_id:
            kind = "commands" if filename.startswith("commands") else "session"
            filename = f"{kind}_{session_id}.{fmt}"
        return web.Response(
            text=text,
            content_type=CONTENT_TYPES[fmt],
            charset="utf-8",
            headers={"Content-Disposition": content_disposition(filename)},
        )
