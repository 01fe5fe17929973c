"""A Streamlit first page without a browser: what a fresh browser asks of the server.

``record_first_page`` opens one page once in one real headless Chromium and keeps
what it asked of the server: the same-origin HTTP GETs (the page, the frontend's
static files, ``/_stcore/health``, ``/_stcore/host-config``, the favicon, the
chunks loaded while the page is drawn) with the headers Chromium sent, and the
BackMsgs the frontend sent on the websocket ``/_stcore/stream`` before its run
finished (one ``rerun_script`` carrying the query string and the browser's
context). ``first_pages`` then replays that recipe from cheap Python clients,
one per classroom code, all at once on one asyncio loop:

1. GET the page (``/?who=<code>``);
2. then, at the same time: the other static GETs over six keep-alive
   connections (Chromium's limit per host over HTTP/1.1), and, on a seventh,
   ``/_stcore/`` GETs (which set the ``_streamlit_xsrf`` cookie) followed by the
   websocket, opened as the frontend opens it (subprotocols ``streamlit`` and
   the XSRF cookie's value, ``Origin`` and ``Cookie`` headers, permessage-deflate
   offered: uvicorn's websockets-sansio takes none, for Chromium neither), the
   recorded BackMsgs sent with this client's code, and ForwardMsgs read until
   the run's ``script_finished``.

A client fails loudly (``FirstPageError``) on a non-200 answer, an answer of
another content type or (but for ``/_stcore/``) size than Chromium got (Streamlit
answers an unknown file name with index.html and 200), a refused or closed
websocket, ``page_not_found``, an exception element, a run that ends other than
successfully, or fewer elements and blocks than Chromium got for the same page.
Left out: the browser's own work (parsing, layout, drawing), requests to other
origins (Google's icon font), and anything the page asks for after it is drawn.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

XSRF_COOKIE = "_streamlit_xsrf"
STREAM_PATH = "/_stcore/stream"
STCORE_PREFIX = "/_stcore/"
CONNECTIONS_PER_HOST = 6          # Chromium's HTTP/1.1 connections per host
_DROP_HEADERS = {"host", "connection", "cookie", "content-length"}


class FirstPageError(RuntimeError):
    """A protocol client did not get the whole page: no figure should come of it."""


@dataclass
class Get:
    path: str                      # path and query, with the recording's code as ``{code}``
    headers: dict[str, str]        # as Chromium sent them, origin as ``{origin}``
    kind: str = ""                 # Chromium's resource type (document, script, font, ...)
    content_type: str = ""         # what the server answered Chromium
    size: int = -1                 # body bytes Chromium got (checked for all but /_stcore/)


@dataclass
class FirstPageRecipe:
    """What one fresh Chromium asked of the server for one page (see the module doc)."""

    document: Get
    gets: list[Get]                # static files and /_stcore/ GETs, in request order
    back_msgs: list[bytes]         # BackMsgs sent before script_finished, code as ``{code}``
    deltas: int                    # elements and blocks Chromium received in that run
    ws_bytes: int                  # ForwardMsg bytes Chromium received in that run
    seconds: float                 # Chromium's own first page, one browser on an idle server
    left_out: list[str] = field(default_factory=list)  # other origins, other methods

    @property
    def assets(self) -> list[Get]:
        return [g for g in self.gets if not g.path.startswith(STCORE_PREFIX)]

    @property
    def stcore(self) -> list[Get]:
        return [g for g in self.gets if g.path.startswith(STCORE_PREFIX)]


def _template(text: str, origin: str, code: str) -> str:
    return text.replace(origin, "{origin}").replace(code, "{code}")


def _fill(text: str, origin: str, code: str) -> str:
    return text.replace("{origin}", origin).replace("{code}", code)


def record_first_page(url: str, code: str, path: str = "", settle_s: float = 1.0,
                      timeout_ms: int = 300_000) -> FirstPageRecipe:
    """Open ``url/path?who=code`` in one fresh headless Chromium; keep what it asked for."""
    from playwright.sync_api import sync_playwright

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, wait_for_app

    chromium = chromium_path()
    if chromium is None:
        raise FirstPageError("chromium not found (apt-get install chromium): nothing to record")
    origin = url.rstrip("/")
    requests: list = []
    sent: list[bytes] = []
    received: list[bytes] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1800})
            page = context.new_page()
            page.on("request", lambda r: requests.append(r))

            def on_ws(ws) -> None:
                if urlsplit(ws.url).path == STREAM_PATH:
                    ws.on("framesent", lambda p: sent.append(
                        p if isinstance(p, bytes) else p.encode()))
                    ws.on("framereceived", lambda p: received.append(
                        p if isinstance(p, bytes) else p.encode()))
            page.on("websocket", on_ws)
            t0 = time.perf_counter()
            page.goto(f"{origin}/{path}?who={code}", wait_until="commit", timeout=timeout_ms)
            wait_for_app(page, timeout_ms=timeout_ms)
            seconds = time.perf_counter() - t0
            page.wait_for_timeout(int(1000 * settle_s))  # chunks asked for while drawing
            headers = [(r, r.all_headers(), _answer(r)) for r in requests]
            context.close()
        finally:
            browser.close()

    document, gets, left_out = None, [], []
    for request, hdrs, (content_type, size) in headers:
        if not request.url.startswith(origin + "/") or request.method != "GET" \
                or request.resource_type == "websocket":
            left_out.append(f"{request.method} {request.url}")
            continue
        rel = request.url[len(origin):]
        get = Get(_template(rel, origin, code),
                  {k: _template(v, origin, code) for k, v in hdrs.items()
                   if k.lower() not in _DROP_HEADERS and not k.startswith(":")},
                  request.resource_type, content_type, size)
        if request.resource_type == "document":
            if document is not None:
                raise FirstPageError(f"two documents loaded: {document.path}, {get.path}")
            document = get
        else:
            gets.append(get)
    if document is None:
        raise FirstPageError("no document request recorded")

    back_msgs, deltas, ws_bytes = [], 0, 0
    for payload in received:
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        ws_bytes += len(payload)
        kind = msg.WhichOneof("type")
        deltas += kind == "delta" and _lasting(msg)
        if kind == "script_finished" and \
                msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            break
    else:
        raise FirstPageError("Chromium's run never finished on the websocket")
    for payload in sent:
        msg = BackMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "app_heartbeat":
            continue
        if msg.WhichOneof("type") == "rerun_script":
            state = msg.rerun_script
            if code not in state.query_string:
                raise FirstPageError(f"the code is not in the rerun's query {state.query_string!r}")
            state.query_string = state.query_string.replace(code, "{code}")
            state.context_info.url = _template(state.context_info.url, origin, code)
        back_msgs.append(msg.SerializeToString())
    if not any(_kind(b) == "rerun_script" for b in back_msgs):
        raise FirstPageError("the frontend sent no rerun_script")
    return FirstPageRecipe(document, gets, back_msgs, deltas, ws_bytes, seconds, left_out)


def _answer(request) -> tuple[str, int]:
    """The content type and body size Chromium got for ``request`` ("", -1: no answer)."""
    response = request.response()
    if response is None:
        return "", -1
    return response.headers.get("content-type", ""), request.sizes()["responseBodySize"]


def _lasting(msg) -> bool:
    """A delta that stays on the page (an element or a block): not a transient (the cache's
    spinner shows only when a cached call runs long enough, so Chromium may see one more)."""
    return msg.delta.WhichOneof("type") in ("new_element", "add_block")


def _kind(payload: bytes) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(payload)
    return msg.WhichOneof("type") or ""


def _back_msg_for(payload: bytes, origin: str, code: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(payload)
    if msg.WhichOneof("type") == "rerun_script":
        state = msg.rerun_script
        state.query_string = _fill(state.query_string, origin, code)
        state.context_info.url = _fill(state.context_info.url, origin, code)
    return msg.SerializeToString()


# ----------------------------------------------------------------------------- HTTP/1.1

class _Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, jar: dict[str, str]) -> None:
        self.host, self.port, self.jar = host, port, jar
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, str]:
        """GET ``path``; body bytes received (as sent: this client decodes nothing) and
        the content type."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.jar.items()))
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields: dict[str, str] = {}
        for line in head[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    if "=" in cookie:
                        key, val = cookie.split("=", 1)
                        self.jar[key.strip()] = val.strip().strip('"')
                fields[name] = value
        if "content-length" in fields:
            size = int(fields["content-length"])
            await self.reader.readexactly(size)
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            size = 0
            while True:
                chunk = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if chunk:
                    await self.reader.readexactly(chunk)
                await self.reader.readexactly(2)
                size += chunk
                if not chunk:
                    break
        else:
            size = len(await self.reader.read())
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            self.close()
        if status != 200:
            raise FirstPageError(f"GET {path}: HTTP {status}")
        return size, fields.get("content-type", "")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# ----------------------------------------------------------------------------- one student

@dataclass
class FirstPage:
    code: str
    seconds: float = 0.0           # from the common start to both parts done
    http_seconds: float = 0.0      # page + static files done
    ws_seconds: float = 0.0        # the run's script_finished received
    requests: int = 0
    http_bytes: int = 0            # HTTP bodies as received (compressed where the server did)
    ws_bytes: int = 0              # ForwardMsg payloads (the server here takes no deflate)
    deltas: int = 0                # elements and blocks (transients left out)
    messages: dict[str, int] = field(default_factory=dict)
    error: str = ""


class _Student:
    def __init__(self, url: str, recipe: FirstPageRecipe, code: str, t0: float,
                 assets: bool, websocket: bool) -> None:
        parts = urlsplit(url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.recipe, self.code, self.t0 = recipe, code, t0
        self.do_assets, self.do_websocket = assets, websocket
        self.jar: dict[str, str] = {}
        self.result = FirstPage(code)
        self.socket: Any = None
        self.connections: list[_Connection] = []

    def _headers(self, get: Get) -> dict[str, str]:
        return {k: _fill(v, self.origin, self.code) for k, v in get.headers.items()}

    def _connection(self) -> _Connection:
        self.connections.append(_Connection(self.host, self.port, self.jar))
        return self.connections[-1]

    async def _get(self, conn: _Connection, get: Get) -> None:
        path = _fill(get.path, self.origin, self.code)
        size, content_type = await conn.get(path, self._headers(get))
        # Streamlit answers an unknown file with index.html (200): the recorded answer tells.
        if content_type != get.content_type or (
                size != get.size and not get.path.startswith(STCORE_PREFIX)):
            raise FirstPageError(f"GET {path}: {content_type}, {size} bytes; Chromium got "
                                 f"{get.content_type}, {get.size} bytes")
        self.result.http_bytes += size  # (not `+=` over the await: the workers interleave)
        self.result.requests += 1

    async def _assets(self, first: _Connection) -> None:
        queue = list(self.recipe.assets)
        conns = [first] + [self._connection() for _ in range(CONNECTIONS_PER_HOST - 1)]

        async def worker(conn: _Connection) -> None:
            while queue:
                await self._get(conn, queue.pop(0))
        await asyncio.gather(*(worker(c) for c in conns))
        self.result.http_seconds = time.perf_counter() - self.t0

    async def _websocket(self) -> None:
        from websockets.asyncio.client import connect

        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        conn = self._connection()
        for get in self.recipe.stcore:      # health and host-config, as the frontend pings
            await self._get(conn, get)
        token = self.jar.get(XSRF_COOKIE, "PLACEHOLDER_AUTH_TOKEN")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())} \
            if self.jar else {}
        agent = self.recipe.document.headers.get("user-agent")
        self.socket = await connect(
            f"ws://{self.host}:{self.port}{STREAM_PATH}", origin=self.origin,
            subprotocols=["streamlit", token], additional_headers=headers,
            user_agent_header=agent, max_size=None, open_timeout=120, ping_interval=None)
        if self.socket.subprotocol != "streamlit":
            raise FirstPageError(f"websocket subprotocol {self.socket.subprotocol!r}")
        for payload in self.recipe.back_msgs:
            await self.socket.send(_back_msg_for(payload, self.origin, self.code))
        started = False
        async for payload in self.socket:
            if isinstance(payload, str):
                raise FirstPageError("a text frame on the websocket")
            self.result.ws_bytes += len(payload)
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            kind = msg.WhichOneof("type") or "?"
            self.result.messages[kind] = self.result.messages.get(kind, 0) + 1
            if kind == "new_session":
                started = True
            elif kind == "page_not_found":
                raise FirstPageError(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "delta":
                self.result.deltas += _lasting(msg)
                element = msg.delta.new_element
                if msg.delta.WhichOneof("type") == "new_element" and \
                        element.WhichOneof("type") == "exception":
                    raise FirstPageError(f"the page shows an exception: "
                                         f"{element.exception.type}: {element.exception.message}")
            elif kind == "script_finished" and started:
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    raise FirstPageError("the run ended with "
                                         + ForwardMsg.ScriptFinishedStatus.Name(status))
                break
        else:
            raise FirstPageError("the websocket closed before the run finished")
        self.result.ws_seconds = time.perf_counter() - self.t0
        if self.result.deltas < self.recipe.deltas:
            raise FirstPageError(f"{self.result.deltas} deltas, Chromium got "
                                 f"{self.recipe.deltas} for the same page")

    async def run(self) -> FirstPage:
        try:
            first = self._connection()
            await self._get(first, self.recipe.document)
            parts = []
            if self.do_assets:
                parts.append(self._assets(first))
            if self.do_websocket:
                parts.append(self._websocket())
            await asyncio.gather(*parts)
            self.result.seconds = time.perf_counter() - self.t0
        except Exception as exc:  # noqa: BLE001 - reported per student, never as a figure
            self.result.error = f"{type(exc).__name__}: {str(exc)[:300]}"
        return self.result

    async def close(self) -> None:
        for conn in self.connections:
            conn.close()
        if self.socket is not None:
            await self.socket.close()


def first_pages(url: str, recipe: FirstPageRecipe, codes: list[str], *,
                assets: bool = True, websocket: bool = True, timeout_s: float = 300.0,
                when_done: Callable[[], Any] | None = None) -> tuple[list[FirstPage], Any]:
    """One protocol client per code, all started at the same moment; their first pages.

    ``when_done`` is called once every client has its page and before any connection
    closes (the server's CPU is read there, as the browsers' pages stay open too).
    ``assets=False`` or ``websocket=False`` leaves that part out (to split the cost).
    """
    async def main() -> tuple[list[FirstPage], Any]:
        t0 = time.perf_counter()
        students = [_Student(url, recipe, code, t0, assets, websocket) for code in codes]
        try:
            done = await asyncio.wait_for(asyncio.gather(*(s.run() for s in students)),
                                          timeout_s)
        except asyncio.TimeoutError:
            done = [s.result for s in students]
            for page in done:
                page.error = page.error or f"no first page within {timeout_s:.0f} s"
        measured = when_done() if when_done else None
        await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
        return list(done), measured

    return asyncio.run(main())
