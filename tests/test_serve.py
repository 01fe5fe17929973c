"""``serve``: Streamlit behind nginx for a room (synth_core/serve.py, commands/serve.py).

The configuration, the gzipped copy of the frontend and the refusals are tested
everywhere; the real servers (nginx serving the files, Streamlit behind it, both
stopped with ``serve``) where nginx is installed. CI installs it and sets
``SYNTH_REQUIRE_NGINX=1``, so there a missing nginx fails instead of skipping.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from synth_core.cli import main
from synth_core.errors import InputError
from synth_core.serve import (ROOT, check_address, child_pids, find_nginx, frontend_cache,
                              max_upload_mb, nginx_config, streamlit_static_dir)
from tests.conftest import missing_tool


def _nginx() -> str:
    nginx = find_nginx()
    if nginx is None:
        missing_tool("nginx not installed (apt-get install nginx)", "SYNTH_REQUIRE_NGINX")
    return nginx


def _static_tree(root: Path) -> Path:
    (root / "js").mkdir(parents=True)
    (root / "js" / "index.abc123.js").write_text("console.log('hello');\n" * 200)
    (root / "media").mkdir()
    (root / "media" / "font.woff2").write_bytes(os.urandom(2000))  # compressed already
    (root / "tiny.css").write_text("a{}")                           # gzip would be larger
    return root


# ----------------------------------------------------------------------------- the frontend copy

def test_frontend_cache_gzips_each_compressible_file_once(tmp_path):
    source = _static_tree(tmp_path / "static")
    cache = frontend_cache(tmp_path / "cache", source)
    js = cache / "js" / "index.abc123.js"
    assert js.read_bytes() == (source / "js" / "index.abc123.js").read_bytes()
    assert gzip.decompress((cache / "js" / "index.abc123.js.gz").read_bytes()) == js.read_bytes()
    assert (cache / "media" / "font.woff2").is_file()
    assert not (cache / "media" / "font.woff2.gz").exists()   # not a compressible kind
    assert not (cache / "tiny.css.gz").exists()               # the .gz would be larger
    stamp = (cache / "js" / "index.abc123.js.gz").stat().st_mtime_ns
    assert frontend_cache(tmp_path / "cache", source) == cache  # made once
    assert (cache / "js" / "index.abc123.js.gz").stat().st_mtime_ns == stamp
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temporary left


def test_frontend_cache_follows_a_new_build(tmp_path):
    source = _static_tree(tmp_path / "static")
    first = frontend_cache(tmp_path / "cache", source)
    (source / "js" / "index.def456.js").write_text("console.log('new build');\n" * 100)
    second = frontend_cache(tmp_path / "cache", source)
    assert second != first and (second / "js" / "index.def456.js.gz").is_file()
    assert not first.exists()  # the former build's copy is gone...
    # ...unless a running server of the workspace still serves it.
    run = tmp_path / "cache" / "server" / "8600"
    run.mkdir(parents=True)
    (run / "nginx.conf").write_text(f'alias "{second}/";')
    (run / "nginx.pid").write_text(str(os.getpid()))
    (source / "js" / "index.ghi789.js").write_text("console.log('third build');\n" * 100)
    third = frontend_cache(tmp_path / "cache", source)
    assert third != second and second.is_dir()


def test_frontend_cache_ignores_a_half_made_copy(tmp_path):
    source = _static_tree(tmp_path / "static")
    cache = frontend_cache(tmp_path / "cache", source)
    (cache / ".complete").unlink()                   # as if a copy had been interrupted
    (cache / "js" / "index.abc123.js.gz").unlink()
    again = frontend_cache(tmp_path / "cache", source)
    assert again == cache and (again / "js" / "index.abc123.js.gz").is_file()


def test_streamlit_static_dir_is_the_frontend_streamlit_serves():
    folder = streamlit_static_dir()
    assert folder.name == "static" and any(folder.joinpath("js").glob("*.js"))


# ----------------------------------------------------------------------------- the configuration

def test_nginx_config_sends_static_files_from_the_cache_and_the_rest_to_streamlit(tmp_path):
    text = nginx_config(static_dir=tmp_path / "front", address="0.0.0.0", port=8600,
                        upstream_port=41234, run_dir=tmp_path / "run", as_root=False)
    assert "listen 0.0.0.0:8600;" in text
    static = re.search(r"location /static/ \{(.*?)\}", text, re.S).group(1)
    assert f'alias "{tmp_path / "front"}/";' in static and "gzip_static on;" in static
    rest = re.search(r"location / \{(.*?)\}", text, re.S).group(1)
    assert "proxy_pass http://127.0.0.1:41234;" in rest
    # The websocket: upgrade headers, and the Host the browser sent (Streamlit compares
    # the Origin with it).
    assert "proxy_set_header Upgrade $http_upgrade;" in rest
    assert "proxy_set_header Connection $connection_upgrade;" in rest
    assert "proxy_set_header Host $http_host;" in rest
    # Everything nginx writes stays in the run folder.
    for directive in ("pid", "error_log", "client_body_temp_path", "proxy_temp_path"):
        assert re.search(rf'{directive} "{re.escape(str(tmp_path / "run"))}/', text), directive
    assert "user root" not in text


def test_nginx_config_upload_limit_lets_streamlit_refuse_first(tmp_path):
    """One megabyte above the dashboard's own limit, so Streamlit's message is the one shown."""
    text = nginx_config(static_dir=tmp_path, address="127.0.0.1", port=8600, upstream_port=9000,
                        run_dir=tmp_path)
    assert f"client_max_body_size {max_upload_mb() + 1}m;" in text
    assert max_upload_mb() == 200  # .streamlit/config.toml's maxUploadSize
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmaxUploadSize = 50\n")
    assert max_upload_mb(config) == 50
    config.write_text("not toml [")
    assert max_upload_mb(config) == 200


def test_nginx_config_ipv6_and_root(tmp_path):
    text = nginx_config(static_dir=tmp_path, address="::1", port=8600, upstream_port=9000,
                        run_dir=tmp_path, as_root=True)
    assert "listen [::1]:8600;" in text and "user root;" in text


@pytest.mark.parametrize("address", ["0.0.0.0; include /etc/passwd", "host name", "", "a..b"])
def test_addresses_nginx_cannot_listen_on_are_refused(address):
    with pytest.raises(InputError, match="--address .* is not an IP address or a host name"):
        check_address(address)


def test_host_names_and_addresses_are_accepted():
    assert check_address("lab-server.local") == "lab-server.local"
    assert check_address(" 192.168.1.20 ") == "192.168.1.20"


@pytest.mark.parametrize("folder", ['ws"; evil', "ws$host", "ws\\x", "ws\nx"])
def test_folders_nginx_cannot_hold_are_refused(tmp_path, folder):
    with pytest.raises(InputError, match="nginx's configuration cannot hold"):
        nginx_config(static_dir=tmp_path / folder, address="127.0.0.1", port=8600,
                     upstream_port=9000, run_dir=tmp_path)


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = _nginx()
    run = tmp_path / "run with space"
    run.mkdir()
    conf = run / "nginx.conf"
    conf.write_text(nginx_config(static_dir=tmp_path, address="127.0.0.1", port=8600,
                                 upstream_port=9000, run_dir=run))
    done = subprocess.run([nginx, "-t", "-p", str(run), "-e", str(run / "error.log"), "-c",
                           str(conf)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


# ----------------------------------------------------------------------------- the verb

def test_serve_without_nginx_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("synth_core.serve.find_nginx", lambda: None)
    code = main(["--workspace", str(tmp_path / "ws"), "serve", "--port", "8600"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nginx not found" in err and "apt-get install nginx" in err and "--no-proxy" in err


def test_serve_refuses_a_bad_address_and_port(tmp_path, capsys):
    assert main(["--workspace", str(tmp_path / "ws"), "serve", "--address", "x y"]) == 2
    assert "--address 'x y' is not an IP address" in capsys.readouterr().err
    assert main(["--workspace", str(tmp_path / "ws"), "serve", "--port", "70000"]) == 2
    assert "--port 70000 is not a port number" in capsys.readouterr().err


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as resp:
        return resp.status, dict(resp.headers), resp.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] \
        if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def test_serve_runs_nginx_in_front_of_streamlit_and_stops_both(tmp_path):
    """The real thing: the page and health from Streamlit through nginx, a frontend file
    gzipped by nginx from the cache, the same bytes as Streamlit's; SIGTERM stops all."""
    _nginx()
    from tests.browser.conftest import ServedServer

    server = ServedServer(tmp_path / "ws", "--classroom").start()
    try:
        status, headers, page = _get(server.url + "/?who=stu-01")
        assert status == 200 and b'<div id="root">' in page
        assert _get(server.url + "/_stcore/health")[2] == b"ok"
        script = re.search(rb'src="\.?/?(static/js/index[^"]+\.js)"', page).group(1).decode()
        status, headers, body = _get(f"{server.url}/{script}", **{"Accept-Encoding": "gzip"})
        assert headers.get("Server", "").startswith("nginx")
        assert headers.get("Content-Encoding") == "gzip"
        assert "immutable" in headers.get("Cache-Control", "")
        original = (streamlit_static_dir() / script.removeprefix("static/")).read_bytes()
        assert gzip.decompress(body) == original
        assert _get(f"{server.url}/{script}")[2] == original  # a client without gzip
        kids = child_pids(server.proc.pid)
        assert len(kids) == 2  # streamlit and nginx's master
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in kids)
        assert "stopped: True" in server.log.read_text()
    finally:
        server.stop()


def test_serve_on_a_taken_port_says_so(tmp_path):
    _nginx()
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "synth_core", "--workspace",
                               str(tmp_path / "ws"), "serve", "--port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"--port {port} on 127.0.0.1 cannot be used (Address already in use)" in done.stderr
    assert "choose another port with --port" in done.stderr
    assert not (tmp_path / "ws" / "cache" / "server").exists()  # nothing was started


def test_serve_without_proxy_is_streamlit_alone(tmp_path):
    """--no-proxy: no nginx needed, Streamlit answers on the port itself, and stops with serve."""
    from tests.browser.conftest import ServedServer

    server = ServedServer(tmp_path / "ws", "--no-proxy").start()
    try:
        status, headers, page = _get(server.url + "/")
        assert status == 200 and b'<div id="root">' in page
        script = re.search(rb'src="\.?/?(static/js/index[^"]+\.js)"', page).group(1).decode()
        headers = _get(f"{server.url}/{script}", **{"Accept-Encoding": "gzip"})[1]
        assert "nginx" not in headers.get("Server", "") and "Content-Encoding" not in headers
        kids = child_pids(server.proc.pid)
        assert len(kids) == 1
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        assert not (tmp_path / "ws" / "cache" / "frontend").exists()  # no copy without nginx
    finally:
        server.stop()


def test_serve_stops_streamlit_and_says_so_when_nginx_dies(tmp_path):
    """A server that dies under serve takes the other one down and names itself: no
    Streamlit left answering on a port nobody can reach."""
    _nginx()
    from tests.browser.conftest import ServedServer

    server = ServedServer(tmp_path / "ws").start()
    try:
        kids = child_pids(server.proc.pid)
        nginx = [pid for pid in kids if "nginx" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(nginx) == 1
        os.kill(nginx[0], signal.SIGKILL)
        assert server.proc.wait(timeout=30) == 2
        log = server.log.read_text()
        assert "error: nginx stopped unexpectedly" in log and "start again" in log
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in kids)
        # nginx's worker outlived its master: serve adopted it and ended it, so the port is free.
        import socket

        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", server.port))
    finally:
        server.stop()
