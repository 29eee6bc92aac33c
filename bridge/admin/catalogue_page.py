"""The procedure catalogue in the admin console: every routable procedure and the workers serving it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bridge.admin.console import AdminConsole
from bridge.admin.rendering import PageRenderer
from bridge.procedures import ProcedureInfo


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    """One procedure as the page shows it; `info` is None when its workers went away meanwhile."""

    name: str
    signature: str
    info: ProcedureInfo | None
    workers: tuple[str, ...]


def signature_of(info: ProcedureInfo) -> str:
    """A readable signature, e.g. `math.add(a: int, b: int) -> int`; optional parameters in brackets."""
    params = []
    for param in info.params:
        text = f"{param.name}: {param.type}" if param.type else param.name
        params.append(f"[{text}]" if param.optional else text)
    if info.variadic:
        params.append("...")
    returns = f" -> {info.returns}" if info.returns else ""
    return f"{info.name}({', '.join(params)}){returns}"


class CataloguePage:
    """GET /procedures."""

    def __init__(self, console: AdminConsole, renderer: PageRenderer) -> None:
        self._console = console
        self._renderer = renderer

    async def show(self, request: web.Request) -> web.Response:
        """Every procedure with its signature, flags, help and worker addresses."""
        rows = []
        for name, addresses in sorted(self._console.workers().items()):
            info = self._console.describe(name)
            signature = signature_of(info) if info is not None else name
            rows.append(CatalogueRow(name, signature, info, tuple(addresses)))
        return self._renderer.render(request, "procedures.html", section="procedures", rows=rows)
