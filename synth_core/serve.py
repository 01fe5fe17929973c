"""The dashboard for a room: Streamlit behind nginx (``python -m synth_core serve``).

Streamlit serves its own frontend: about 93 files (2.9 MB, uncompressed) to every
new browser, from Python, on the one event loop that also runs every session's
websocket. With 20 students opening the page at once that is ~0.15 s of server CPU
a student, 90 % of a first page's server work, and p95 3.9 s before the last page is
served (``benchmarks/classroom.py --clients protocol``). nginx serves those files
instead, gzipped once per Streamlit version (``gzip_static``: no CPU per request,
a third of the bytes on a classroom's Wi-Fi), and passes everything else (the pages,
the websocket, uploads, media) to Streamlit on a private localhost port.

* :func:`frontend_cache` – a copy of Streamlit's hashed assets (``static/static``)
  with a ``.gz`` beside each compressible file, under the workspace's
  ``cache/frontend/``, made once per Streamlit build.
* :func:`nginx_config` – the configuration text; :func:`check_config_text` refuses
  addresses and paths that cannot be written into it safely.
* :class:`Served` – start Streamlit and nginx, wait, stop both.

This module never imports Streamlit (it finds the package's files with importlib).
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path

from synth_core.errors import InputError, StorageError

ROOT = Path(__file__).resolve().parent.parent          # app.py and .streamlit/ live here
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".ttf", ".otf", ".txt", ".html", ".map",
                ".wasm")
COMPLETE_MARK = ".complete"
DEFAULT_UPLOAD_MB = 200                                 # Streamlit's own default
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
NGINX_MISSING = ("nginx not found: install it (Debian/Ubuntu: apt-get install nginx; macOS: "
                 "brew install nginx), or pass --no-proxy to let Streamlit serve its own files "
                 "(fine for a few users, slower for a room)")


# ----------------------------------------------------------------------------- the frontend

def streamlit_static_dir() -> Path:
    """Streamlit's hashed frontend assets (served under ``/static/``), found without
    importing Streamlit."""
    spec = util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("streamlit is not installed; pip install -r requirements.txt")
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "static"
    if not folder.is_dir():
        raise InputError(f"streamlit's frontend files are missing ({folder}); reinstall it: "
                         "pip install --force-reinstall -r requirements.txt")
    return folder


def _fingerprint(source: Path) -> str:
    """Names, sizes and times of every file: a new Streamlit build gets a new cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(source)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def frontend_cache(cache_dir: Path, source: Path | None = None) -> Path:
    """A copy of ``source`` (default: Streamlit's assets) with ``.gz`` files beside it.

    Made once per build under ``cache_dir/frontend/<version>-<fingerprint>/`` (about
    3 s for Streamlit's 25 MB), in a temporary folder renamed into place, so two
    servers starting at once or an interrupted copy never leave a half-made cache.
    A ``.gz`` is kept only where it is smaller than the file. Making a new copy removes
    the copies of former builds that no running ``serve`` of this workspace still uses.
    """
    source = Path(source) if source is not None else streamlit_static_dir()
    try:
        version = metadata.version("streamlit")
    except metadata.PackageNotFoundError:
        version = "unknown"
    dest = Path(cache_dir) / "frontend" / f"{version}-{_fingerprint(source)}"
    if (dest / COMPLETE_MARK).is_file():
        return dest
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        for path in tmp.rglob("*"):
            if path.is_file() and path.suffix.lower() in COMPRESSIBLE:
                data = path.read_bytes()
                packed = gzip.compress(data, compresslevel=9, mtime=0)
                if len(packed) < len(data):
                    path.with_name(path.name + ".gz").write_bytes(packed)
        (tmp / COMPLETE_MARK).write_text(str(source) + "\n")
        if dest.exists() and not (dest / COMPLETE_MARK).is_file():
            shutil.rmtree(dest)  # a damaged copy (a finished one always has its mark)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / COMPLETE_MARK).is_file():  # not another server's finished copy
                raise
    except OSError as exc:
        raise StorageError(f"cannot prepare the frontend files under {dest.parent}: {exc}; "
                           "check that the workspace is writable and has ~40 MB free") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    in_use = _served_folders(Path(cache_dir) / "server")
    for old in dest.parent.iterdir():  # a former build's copy (~32 MB), unless still served
        if old != dest and (old / COMPLETE_MARK).is_file() and str(old) not in in_use:
            shutil.rmtree(old, ignore_errors=True)
    return dest


def _served_folders(server_dir: Path) -> str:
    """The configurations of nginx servers still running from this workspace, as one text."""
    texts = []
    for conf in server_dir.glob("*/nginx.conf"):
        try:
            pid = int((conf.parent / "nginx.pid").read_text().strip())
            os.kill(pid, 0)
            texts.append(conf.read_text())
        except (OSError, ValueError):
            continue
    return "\n".join(texts)


# ----------------------------------------------------------------------------- nginx

def check_address(address: str) -> str:
    """An IP address or host name nginx can listen on; anything else is refused."""
    text = address.strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if not _HOSTNAME.match(text):
        raise InputError(f"--address {address!r} is not an IP address or a host name; use e.g. "
                         "127.0.0.1 (this machine only) or 0.0.0.0 (the whole room)")
    return text


def check_port(port: int, what: str = "--port") -> int:
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"{what} {port!r} is not a port number; use one from 1024 to 65535, "
                         "e.g. 8501")
    return port


def _quoted(path: Path, what: str) -> str:
    """``path`` as a double-quoted nginx string; refuses what nginx would read otherwise."""
    text = str(path)
    bad = sorted({c for c in text if c in '"\\$' or ord(c) < 32 or ord(c) == 127})
    if bad:
        raise InputError(f"{what} {text!r} holds {''.join(bad)!r}, which nginx's configuration "
                         "cannot hold safely; use a workspace folder without quotes, "
                         "backslashes, '$' or control characters (--workspace)")
    return f'"{text}"'


def _listen(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def max_upload_mb(config_file: Path | None = None) -> int:
    """The upload limit the dashboard sets (``[server] maxUploadSize``, megabytes)."""
    path = config_file or ROOT / ".streamlit" / "config.toml"
    try:
        value = tomllib.loads(path.read_text()).get("server", {}).get("maxUploadSize")
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_UPLOAD_MB
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_UPLOAD_MB


_MIME = {"js": "application/javascript", "css": "text/css", "svg": "image/svg+xml",
         "json": "application/json", "png": "image/png", "gif": "image/gif",
         "jpg": "image/jpeg", "ico": "image/x-icon", "woff2": "font/woff2", "woff": "font/woff",
         "ttf": "font/ttf", "otf": "font/otf", "txt": "text/plain", "html": "text/html",
         "wasm": "application/wasm", "map": "application/json"}


def nginx_config(*, static_dir: Path, address: str, port: int, upstream_port: int,
                 run_dir: Path, upload_mb: int | None = None, as_root: bool | None = None) -> str:
    """nginx's configuration: ``/static/`` from ``static_dir``, the rest to Streamlit.

    Streamlit checks that a websocket's Origin matches its Host, so the Host the
    browser sent is passed on unchanged. Uploads stream through unbuffered with a body
    limit a megabyte above Streamlit's own, so Streamlit's message about a file too
    large is what the user sees. Everything nginx writes goes under ``run_dir``.
    """
    address = check_address(address)
    check_port(port)
    check_port(upstream_port, "the Streamlit port")
    static = _quoted(Path(static_dir), "the frontend cache").rstrip('"') + '/"'
    run = Path(run_dir)
    paths = {name: _quoted(run / name, "the server folder") for name in
             ("nginx.pid", "error.log", "client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    limit = (upload_mb or max_upload_mb()) + 1
    root = os.geteuid() == 0 if as_root is None else as_root
    types = "\n".join(f"        {mime} {ext};" for ext, mime in sorted(_MIME.items()))
    return f"""# Written by `python -m synth_core serve`; remade on every start.
worker_processes 1;
{"user root;  # the workers read the workspace as the dashboard does" if root else ""}
pid {paths["nginx.pid"]};
error_log {paths["error.log"]} warn;
events {{ worker_connections 1024; }}
http {{
    types {{
{types}
    }}
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {paths["client_body"]};
    proxy_temp_path {paths["proxy"]};
    fastcgi_temp_path {paths["fastcgi"]};
    uwsgi_temp_path {paths["uwsgi"]};
    scgi_temp_path {paths["scgi"]};
    client_max_body_size {limit}m;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen {_listen(address, port)};
        # Streamlit's frontend: content-hashed names, so cached for good; .gz made once.
        location /static/ {{
            alias {static};
            gzip_static on;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_request_buffering off;
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    """The nginx binary on PATH or in Debian's /usr/sbin (not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def check_port_free(address: str, port: int) -> None:
    """Refuse, before starting anything, a port another program already listens on."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and Streamlit do
        try:
            sock.bind((address, port))
        except OSError as exc:
            raise InputError(f"--port {port} on {address} cannot be used ({exc.strerror}): "
                             "another server may be running there; stop it or choose another "
                             "port with --port") from exc


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM when ``serve`` dies, even by SIGKILL (no orphan servers)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _adopt_orphans() -> None:
    """Linux: become the parent of our children's orphans (PR_SET_CHILD_SUBREAPER), so the
    workers of an nginx master that died come to this process and :meth:`Served.stop`
    can end them; otherwise they would keep the port."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def child_pids(parent: int) -> list[int]:
    """Linux: the processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _orphaned_nginx() -> list[int]:
    """Our own child processes that are nginx workers left by a master that died."""
    found = []
    for pid in child_pids(os.getpid()):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"nginx: worker"):
                found.append(pid)
        except OSError:
            continue
    return found


# ----------------------------------------------------------------------------- both servers

@dataclass
class Served:
    """Streamlit on a private port behind nginx on ``address:port`` (or Streamlit alone).

    ``start()`` returns once both answer ``/_stcore/health``; ``stop()`` ends both;
    ``wait()`` blocks until one of them exits (returning its name) or the process is
    told to stop.
    """

    workspace: Path
    address: str = "127.0.0.1"
    port: int = 8501
    classroom: bool = False
    proxy: bool = True
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.address = check_address(self.address)
        check_port(self.port)
        self.run_dir = Path(self.workspace) / "cache" / "server" / str(self.port)
        self.upstream_port = free_port() if self.proxy else self.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "::") else self.address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = open(self.run_dir / f"{name}.log", "wb")
        try:
            self.procs[name] = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        finally:
            log.close()

    def start(self, timeout: float = 90.0) -> "Served":
        check_port_free(self.address, self.port)
        nginx = None
        if self.proxy:
            nginx = find_nginx()
            if nginx is None:
                raise InputError(NGINX_MISSING)
            static = frontend_cache(Path(self.workspace) / "cache")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if nginx is not None and sys.platform.startswith("linux"):
            _adopt_orphans()
        env = dict(os.environ, SYNTH_WORKSPACE=str(self.workspace), PYTHONUNBUFFERED="1")
        if self.classroom:
            env["SYNTH_CLASSROOM"] = "1"
        st_address = "127.0.0.1" if self.proxy else self.address
        self._spawn("streamlit", [sys.executable, "-m", "streamlit", "run", "app.py",
                                  "--server.address", st_address,
                                  "--server.port", str(self.upstream_port),
                                  "--server.headless", "true"], env)
        try:
            self._wait_healthy(f"http://127.0.0.1:{self.upstream_port}" if self.proxy
                               else self.url, "streamlit", timeout)
            if nginx is not None:
                conf = self.run_dir / "nginx.conf"
                conf.write_text(nginx_config(static_dir=static, address=self.address,
                                             port=self.port, upstream_port=self.upstream_port,
                                             run_dir=self.run_dir))
                self._spawn("nginx", [nginx, "-p", str(self.run_dir), "-e",
                                      str(self.run_dir / "error.log"), "-c", str(conf),
                                      "-g", "daemon off;"], env)
                self._wait_healthy(self.url, "nginx", 30.0)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, url: str, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise StorageError(f"{name} stopped as it started (exit {proc.returncode}): "
                                   f"{self.log_tail(name)}; is port {self.port} taken? "
                                   "choose another with --port")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise StorageError(f"{name} did not answer within {timeout:.0f} s: {self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 3) -> str:
        """The last few distinct lines ``name`` wrote (nginx repeats its bind errors)."""
        logs = [self.run_dir / f"{name}.log"] + ([self.run_dir / "error.log"]
                                                 if name == "nginx" else [])
        seen: list[str] = []
        for log in logs:
            if log.is_file():
                for line in log.read_text(errors="replace").splitlines()[-20:]:
                    line = re.sub(r"^\S+ \S+ \[(\w+)\] \d+#\d+: ", r"\1: ", line.strip())
                    if line and line not in seen:
                        seen.append(line)
        return "; ".join(seen[-lines:]) or "no output"

    def wait(self) -> str:
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    return name
            time.sleep(0.5)

    def stop(self) -> None:
        for name in ("nginx", "streamlit"):  # the door first, then the house
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if "nginx" in self.procs and sys.platform.startswith("linux"):
            for pid in _orphaned_nginx():  # its master died first: end and reap its workers
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
