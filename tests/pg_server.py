"""A throw-away PostgreSQL server for tests and benchmarks (Debian's postgresql package).

:func:`start` runs ``initdb`` and ``pg_ctl start`` in a fresh temporary folder,
listening on 127.0.0.1 at a free port with trust authentication, so a plain
``postgresql://postgres@127.0.0.1:PORT/postgres`` URL reaches it. PostgreSQL
refuses to run as root: as root the server runs as the ``postgres`` user (or
``nobody``) through ``runuser``, in a folder handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from synth_core.serve import free_port

REQUIRE_ENV = "SYNTH_REQUIRE_POSTGRES"


def find_bin() -> Path | None:
    """Folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin_dir: Path
    user: str | None   # the OS user running the server (None: this one)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=60")
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")

    def stop(self, *, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop(mode="immediate")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> PostgresServer:
    """Create and start a server; raises FileNotFoundError when PostgreSQL is missing."""
    bin_dir = find_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed (Debian: "
                                "apt-get install -y postgresql)")
    user = None
    folder = Path(tempfile.mkdtemp(prefix="synth-pg-"))
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            user = name
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            break
    server = PostgresServer(folder=folder, port=free_port(), bin_dir=bin_dir, user=user)
    try:
        server._run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync", "--no-instructions")
        server.start()
    except BaseException:
        server.remove()
        raise
    return server
