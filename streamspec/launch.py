"""Start a server as a real child process, know when it is ready, and make sure it always goes away.

Every server the suite or the load tests start goes through ``ServerProcess``:

* it runs in its own process group (``start_new_session``), so stopping it also stops the workers a
  server forks (granian, sanic);
* on Linux it is told to die with its parent (``PR_SET_PDEATHSIG``), so even a SIGKILLed test run
  leaves no server behind;
* ``stop_all()`` runs at interpreter exit and on SIGTERM, so Ctrl-C and CI cancellations clean up too;
* "ready" means ``GET /probe`` answers and the ``pid`` in its answer belongs to *our* process tree;
  a port that another program holds is therefore never mistaken for our server.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import psutil

ROOT = Path(__file__).resolve().parent.parent
#: The repository when the suite runs from a checkout; None when it is installed (ROOT is then
#: site-packages, which is never written to).
CHECKOUT = ROOT if (ROOT / "pyproject.toml").is_file() and (ROOT / "conformance" / "plugin.py").is_file() else None


def reports_dir() -> Path:
    """Where results go unless a path is given: the checkout's ``reports/``, or ``./streamspec-results/``
    in the current directory when the suite is installed."""
    return CHECKOUT / "reports" if CHECKOUT is not None else Path.cwd() / "streamspec-results"
_LIVE: "set[ServerProcess]" = set()


class ServerError(RuntimeError):
    """A server could not be started or died; the message is one line plus its stderr tail."""


class PortTaken(ServerError):
    """The port was taken by another program. A port the suite picked itself (``free_port``) can be
    picked by a process starting beside it in the moment between the check and the server's bind, so
    its caller may pick another and start again; a port the user chose is a plain error."""


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the processes the suite starts (servers, concurrent parts).

    Bytecode is cached in a private directory (``PYTHONPYCACHEPREFIX``, unless the user set one) even when
    ``PYTHONDONTWRITEBYTECODE`` is set: otherwise every part and every server compiles the suite, pytest
    rewrites the assertions of some 120 modules, and a part spends 2 s starting instead of 0.6 s. Nothing
    is written into the user's tree or site-packages.
    """
    # PYTHONFAULTHANDLER: a Python server that crashes, or that the suite aborts because it stopped answering
    # (``ServerProcess.abort_for_stacks``), prints every thread's stack: the failure then says where it was.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1", **(extra or {})}
    if "PYTHONPYCACHEPREFIX" not in env:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"streamspec-pycache-{os.getuid()}")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def use_private_pycache() -> None:
    """In this process, the bytecode policy ``child_env`` gives the processes we start: cache it in the
    private directory, unless the user chose a prefix. Without it, a run under ``PYTHONDONTWRITEBYTECODE``
    has pytest rewrite the assertions of hypothesis's 70-odd modules again every time (about 1.2 s of
    CPU per process)."""
    env = child_env()
    if not os.environ.get("PYTHONPYCACHEPREFIX") and env.get("PYTHONPYCACHEPREFIX"):
        sys.pycache_prefix = env["PYTHONPYCACHEPREFIX"]
        sys.dont_write_bytecode = False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def die_with_parent(parent_pid: int | None = None) -> None:
    """In a child (between fork and exec, or a fork that stays Python): SIGKILL it when its parent dies.

    ``parent_pid`` is the parent's pid taken *before* the fork. A parent that dies between the fork and
    the ``prctl`` call never triggers the signal (the child was already reparented), so the child checks
    afterwards that its parent is still the one that forked it and dies at once if not; without this a
    SIGKILLed run under load left servers behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)


def preexec_die_with_parent():
    """A ``preexec_fn`` for ``subprocess.Popen`` that runs ``die_with_parent`` against this process and
    turns core dumps off (None off Linux)."""
    if sys.platform != "linux":
        return None
    parent = os.getpid()
    return lambda: (_no_core_files(), die_with_parent(parent))


def _no_core_files() -> None:
    """No core dump from a server that crashes (socketify's S8 aborts) or that the suite aborts for its
    stacks (``ServerProcess.abort_for_stacks``): where ``kernel.core_pattern`` is a plain file name the
    kernel would write it into the working directory, the user's checkout. (``resource`` is imported at
    the top: importing in a child between fork and exec can deadlock on the import lock.)"""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def http_get_json(host: str, port: int, target: str, timeout: float = 2.0) -> dict:
    """A minimal GET for readiness checks (before the suite's wire client is involved). httpx is imported
    here, not at the top: server processes import this module too."""
    from . import http_client

    response = http_client.get(f"http://{host}:{port}{target}", timeout=timeout)
    response.raise_for_status()
    return response.json()


def _bind_failed(log_tail: str) -> bool:
    """The server's own words for "the port was taken": uvicorn, hypercorn, granian and sanic exit with
    "address already in use"; socketify logs "Failed to listen on port N" and stays up (CI saw another
    suite's server answer 404 on that port for 30 s)."""
    tail = log_tail.lower()
    return "address already in use" in tail or "failed to listen on port" in tail


#: how much of a stopped server's output is kept for the verdicts that quote it (``output_since``)
KEPT_OUTPUT = 256 * 1024


class ServerProcess:
    """One server child process; use as a context manager or call start()/stop()."""

    def __init__(self, argv: Sequence[str], host: str, port: int, name: str, cwd: Path = ROOT,
                 env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.host, self.port, self.name = host, port, name
        self.cwd = cwd
        self.env = child_env(env)
        self.proc: subprocess.Popen | None = None
        self._final_tail: str | None = None
        self._log = None  # the server's output file: made by start(), removed by stop()
        self._kept: tuple[int, bytes] | None = None  # (offset, bytes): the output's end, kept by stop()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, ready_timeout: float = 30.0) -> "ServerProcess":
        if port_in_use(self.host, self.port):
            raise PortTaken(f"port {self.port} on {self.host} is in use: stop whatever holds it, "
                              f"or leave out --port to use a free one")
        # An anonymous file (no name on disk): however this process ends, even by SIGKILL, nothing is left in
        # the temporary directory. Made here, not in __init__: a process that never starts makes none.
        self._log = tempfile.TemporaryFile(prefix=f"streamspec-{self.name.replace('/', '-')}-", suffix=".log")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=preexec_die_with_parent())
        _LIVE.add(self)
        try:
            self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.tail_suffix()
                kind = PortTaken if _bind_failed(tail) else ServerError
                raise kind(f"{self.name} exited with code {self.proc.returncode} before it was ready{tail}")
            try:
                answer = http_get_json(self.host, self.port, "/probe", timeout=1.0)
            except Exception as exc:  # not listening yet, or still starting
                last_error = f"{type(exc).__name__}: {exc}"
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if status is not None and self._listening():
                    # our own server answers, but not /probe as the contract says: waiting will not help
                    raise ServerError(f"{self.name} answers GET /probe with {status}: an adapter must serve "
                                      f"/probe and /health (ADAPTERS.md, 'The contract'){self.tail_suffix()}")
                tail = self.tail_suffix()
                if _bind_failed(tail):  # socketify logs the failed bind and keeps running
                    raise PortTaken(f"{self.name} could not listen on port {self.port}{tail}") from None
                time.sleep(0.05)
                continue
            if answer.get("pid") in self.pids():
                return
            raise PortTaken(f"port {self.port} answers, but not from the {self.name} server we "
                              f"started (pid {answer.get('pid')}): is another server on that port?")
        raise ServerError(f"{self.name} was not ready after {timeout:.0f}s ({last_error})"
                          f"{self.tail_suffix()}")

    def _listening(self) -> bool:
        """Whether a process we started listens on our port (so an answer on it is our server's)."""
        import psutil

        for pid in self.pids():
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port for c in conns):
                return True
        return False

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after ``grace`` seconds."""
        _LIVE.discard(self)
        if self.proc is not None:
            self._stop_group(self.pids(), grace)
        if self._log is not None:
            self._final_tail = self.log_tail(40)
            # what a case's verdict quotes (``output_since``) is read after a server that hung was stopped
            start = max(0, self.log_size() - KEPT_OUTPUT)
            self._kept = (start, self._read_log(start))
            self._log.close()
            self._log = None

    def abort_for_stacks(self, wait: float = 2.0) -> bool:
        """SIGABRT a server that stopped answering, so that its Python prints where every thread was
        (``PYTHONFAULTHANDLER``, set by ``child_env``) before it dies; True if it exited within ``wait``.
        For a server about to be stopped anyway: it is what explains a deaf server (a loop spinning in a
        framework's code, a deadlock) better than a timeout does. A server that is not Python, or that
        handles SIGABRT itself, is stopped as usual by ``stop`` afterwards."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            os.kill(self.proc.pid, signal.SIGABRT)
            self.proc.wait(wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            return False
        return True

    def _stop_group(self, members: set[int], grace: float) -> None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            for pid in members:  # a worker that left the group still belongs to us
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            _, alive = psutil.wait_procs([p for p in map(_proc, members) if p], timeout=wait)
            if not alive:
                break

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- observation ---------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> set[int]:
        """The server process and all its descendants."""
        if self.proc is None:
            return set()
        try:
            root = psutil.Process(self.proc.pid)
            return {root.pid, *(c.pid for c in root.children(recursive=True))}
        except psutil.NoSuchProcess:
            return set()

    def open_fds(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                total += psutil.Process(pid).num_fds()
            except psutil.NoSuchProcess:
                pass
        return total

    def rss(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def cpu_by_pid(self) -> dict[int, float]:
        """CPU seconds (user + system, with reaped children) used so far by each process of the server's
        tree. Per pid, so a case's share is the difference of two readings even when a worker came or went.
        The tree is looked up again only when one of its processes is gone: finding a tree walks every
        process on the machine (psutil's ppid map), which twice per case was a noticeable part of the
        suite's own CPU; a worker that appears beside living ones is missed until then (an INFO figure)."""
        used = {}
        tree = getattr(self, "_cpu_tree", None)
        for attempt in range(2):
            if tree is None or attempt:
                tree = [proc for proc in map(_proc, self.pids()) if proc is not None]
                self._cpu_tree = tree
            try:
                for proc in tree:
                    t = proc.cpu_times()
                    used[proc.pid] = t.user + t.system + t.children_user + t.children_system
                return used
            except psutil.Error:
                used.clear()
        return used

    def log_tail(self, lines: int = 15) -> str:
        if getattr(self, "_final_tail", None) is not None:
            return "\n".join(self._final_tail.splitlines()[-lines:])
        try:
            text = self._read_log(max(0, self.log_size() - 65536)).decode("utf-8", "replace")
        except (OSError, AttributeError, ValueError):  # no file yet, or already closed
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def log_size(self) -> int:
        """Where the server's output ends now: ``output_since`` of this is what it prints from here on."""
        try:
            return os.fstat(self._log.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            return 0

    def output_since(self, offset: int, limit: int = 6000) -> str:
        """The server's own output (stdout and stderr, tracebacks included) since ``offset``, its last
        ``limit`` characters: what it printed while one case ran."""
        try:
            text = self._read_log(offset).decode("utf-8", "replace")
        except (OSError, AttributeError, ValueError):
            return ""
        return text[-limit:].strip()

    def _read_log(self, offset: int) -> bytes:
        """The server's output from ``offset`` on, read by position (the child writes at the file's end);
        after ``stop``, from the end of it that ``stop`` kept."""
        if self._log is None and self._kept is not None:
            start, data = self._kept
            return data[max(0, offset - start):]
        fd = self._log.fileno()
        return os.pread(fd, max(0, os.fstat(fd).st_size - offset), offset)

    def tail_suffix(self) -> str:
        tail = self.log_tail()
        return f"; its output ends:\n{tail}" if tail else " (it printed nothing)"


def _proc(pid: int):
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def stop_all() -> None:
    for server in list(_LIVE):
        server.stop(grace=2.0)


def _on_sigterm(signum, frame) -> None:
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(stop_all)
if sys.platform != "win32" and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass


def start_on_free_port(argv_for, name: str, host: str = "127.0.0.1", env: dict[str, str] | None = None,
                       attempts: int = 3) -> ServerProcess:
    """Start a server on a port picked with ``free_port``; ``argv_for(port)`` gives its command. A port
    another server starting beside ours took first (``PortTaken``) is picked again, ``attempts`` times."""
    for attempt in range(attempts):
        port = free_port(host)
        process = ServerProcess(argv_for(port), host, port, name=name, env=env)
        try:
            return process.start()
        except PortTaken:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")

