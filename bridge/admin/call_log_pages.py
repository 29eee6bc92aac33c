"""The call log in the admin console: a filtered, paginated list (newest first) and one call's detail.

Filters arrive as query parameters of a GET form, so a filtered view is a link that can be shared
and reloaded; being read-only, that form carries no CSRF token (which would leak into URLs).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlencode

from aiohttp import web

from bridge.admin.access_guard import not_found
from bridge.admin.console import AdminConsole
from bridge.admin.rendering import PageRenderer
from bridge.store.records import DIRECTIONS, OUTCOMES, CallFilter

PAGE_SIZE: Final = 50
FILTER_FIELDS: Final = (
    "procedure",
    "user",
    "outcome",
    "direction",
    "since",
    "until",
    "request_id",
    "trace_id",
)
# SQLite and PostgreSQL integers are signed 64-bit: a larger id names no record, and a larger
# offset would overflow the driver.
MAX_RECORD_ID: Final = (1 << 63) - 1
MAX_PAGE_NUMBER: Final = 10**9
# Labels of CallRecord fields on the detail page; a field missing here still shows, by its name.
FIELD_LABELS: Final = {
    "at": "Time",
    "duration_ms": "Duration",
    "request_id": "Request ID",
    "trace_id": "Trace ID",
    "fault_code": "Fault code",
    "request_bytes": "Request bytes",
    "response_bytes": "Response bytes",
    "id": "Log ID",
}


def field_label(name: str) -> str:
    """How the detail page names a CallRecord field."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def parse_moment(text: str) -> datetime.datetime:
    """An ISO 8601 date or date-time; one without an offset (as `datetime-local` inputs send) is UTC."""
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def parse_filters(query: Mapping[str, str]) -> tuple[CallFilter, list[str]]:
    """The call filter the query asks for, and what was wrong with it (empty when nothing)."""
    values = {name: query.get(name, "").strip() for name in FILTER_FIELDS}
    errors: list[str] = []
    if values["outcome"] and values["outcome"] not in OUTCOMES:
        errors.append(f"Outcome must be one of {', '.join(sorted(OUTCOMES))}.")
    if values["direction"] and values["direction"] not in DIRECTIONS:
        errors.append(f"Direction must be one of {', '.join(sorted(DIRECTIONS))}.")
    moments: dict[str, datetime.datetime | None] = {}
    for name in ("since", "until"):
        try:
            moments[name] = parse_moment(values[name]) if values[name] else None
        except ValueError:
            errors.append(f"{name.capitalize()} must be a date and time such as 2025-01-31T14:30.")
            moments[name] = None
    if errors:
        return CallFilter(), errors
    return (
        CallFilter(
            procedure=values["procedure"] or None,
            user=values["user"] or None,
            outcome=values["outcome"] or None,
            direction=values["direction"] or None,
            request_id=values["request_id"] or None,
            trace_id=values["trace_id"] or None,
            since=moments["since"],
            until=moments["until"],
        ),
        [],
    )


def parse_page(text: str) -> int:
    """The 1-based page number; anything unreadable or below 1 is page 1."""
    try:
        return min(max(1, int(text)), MAX_PAGE_NUMBER)
    except ValueError:
        return 1


class CallLogPages:
    """GET /calls and GET /calls/{id}."""

    def __init__(self, console: AdminConsole, renderer: PageRenderer) -> None:
        self._console = console
        self._renderer = renderer

    async def list_calls(self, request: web.Request) -> web.Response:
        """The call log, newest first, PAGE_SIZE to a page."""
        filters, errors = parse_filters(request.query)
        form = {name: request.query.get(name, "").strip() for name in FILTER_FIELDS}
        page_number = parse_page(request.query.get("page", "1"))
        records: tuple[object, ...] = ()
        total = 0
        if not errors:
            page = await self._console.call_log.query(
                filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
            )
            records, total = page.records, page.total
        kept = {name: value for name, value in form.items() if value}

        def page_link(number: int) -> str:
            return "/calls?" + urlencode({**kept, "page": str(number)})

        last_page = max(1, -(-total // PAGE_SIZE))
        first_shown = (page_number - 1) * PAGE_SIZE + 1 if records else 0
        users = [user.username for user in await self._console.users.list_users()]
        return self._renderer.render(
            request,
            "calls.html",
            status=400 if errors else 200,
            section="calls",
            records=records,
            total=total,
            form=form,
            filtered=bool(kept),
            errors=errors,
            outcomes=sorted(OUTCOMES),
            directions=sorted(DIRECTIONS),
            procedure_names=sorted(self._console.workers()),
            usernames=users,
            page=page_number,
            last_page=last_page,
            first_shown=first_shown,
            last_shown=first_shown + len(records) - 1 if records else 0,
            previous_link=page_link(page_number - 1) if page_number > 1 else "",
            next_link=page_link(page_number + 1) if page_number < last_page else "",
            first_link=page_link(1) if page_number > last_page else "",
        )

    async def show_call(self, request: web.Request) -> web.Response:
        """One call with every field the log holds."""
        record_id = int(request.match_info["record_id"])
        record = await self._console.call_log.get(record_id) if record_id <= MAX_RECORD_ID else None
        if record is None:
            return not_found(request, self._renderer, f"The call log holds no call #{record_id}.")
        fields = [
            (field.name, field_label(field.name), getattr(record, field.name))
            for field in dataclasses.fields(record)
        ]
        return self._renderer.render(
            request, "call_detail.html", section="calls", record=record, fields=fields
        )
