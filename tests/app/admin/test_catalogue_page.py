"""The procedure catalogue in the console: signatures, flags, help and the workers serving each."""

from __future__ import annotations

import re

from bridge.procedures import ProcedureInfo
from bridge.sidecar.catalogue import Catalogue
from tests.app.admin.conftest import WORKER_A, WORKER_B, AdminClient


def row_of(html: str, signature_start: str) -> str:
    """The table row whose signature starts as given."""
    match = re.search(r"<tr>\s*<td><code>" + re.escape(signature_start) + r".*?</tr>", html, re.S)
    assert match, signature_start
    return match.group(0)


async def test_procedures_with_their_workers(admin: AdminClient) -> None:
    """Each procedure is listed with its signature, auth flag, versions, help and worker addresses."""
    text = await (await admin.get("/procedures")).text()
    echo = row_of(text, "echo(")
    assert "echo([var: string]) -&gt; string" in echo
    assert WORKER_A in echo and WORKER_B in echo
    assert "Return the argument unchanged." in echo
    add = row_of(text, "math.add(")
    assert "math.add(a: int, b: int) -&gt; int" in add
    assert WORKER_A in add and WORKER_B not in add
    assert "required" in add
    assert ">2<" in add


async def test_catalogue_changes_show_without_restart(admin: AdminClient, catalogue: Catalogue) -> None:
    """A worker that drops out disappears from the page on the next load."""
    catalogue.drop(WORKER_B)
    assert WORKER_B not in await (await admin.get("/procedures")).text()


async def test_hostile_procedure_is_escaped(admin: AdminClient, catalogue: Catalogue) -> None:
    """A worker advertising a procedure named <script> cannot inject markup into the page."""
    catalogue.update("127.0.0.1:50063", [ProcedureInfo("<script>x</script>", help="<b>bold</b>")])
    text = await (await admin.get("/procedures")).text()
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;()" in text


async def test_empty_catalogue(admin: AdminClient, catalogue: Catalogue) -> None:
    """With no live worker, the page says so."""
    catalogue.drop(WORKER_A)
    catalogue.drop(WORKER_B)
    assert "No live worker" in await (await admin.get("/procedures")).text()
