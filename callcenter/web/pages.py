"""Static files (the style sheet): read once at start-up and served by name, never by a path from the
request, so nothing outside web/static can be reached."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.web.context import state

_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".js": "text/javascript",
}


def load_static(directory: Path) -> dict[str, tuple[bytes, str]]:
    return {
        p.name: (p.read_bytes(), _TYPES[p.suffix])
        for p in sorted(directory.iterdir())
        if p.is_file() and p.suffix in _TYPES
    }


async def static_file(request: web.Request) -> web.StreamResponse:
    found = state(request).static_files.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, content_type = found
    return web.Response(
        body=body, content_type=content_type, headers={"Cache-Control": "public, max-age=3600"}
    )
