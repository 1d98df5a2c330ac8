"""The server under test, as the cases see it: where it is, how to talk to it, how to watch it.

``ServerManager`` owns the server process for the whole run. A server that dies during a case makes
that case error with the server's output tail; the next case gets a fresh server. A server that will
not start at all ends the run with one line saying why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from streamspec import http_client
from streamspec.adapter import Adapter, LaunchOptions
from streamspec.launch import ServerError, ServerProcess, start_on_free_port

from .probe_client import ProbeClient, ProbeUnanswered
from .wire import WireConnection


@dataclass
class Target:
    adapter_name: str
    server_name: str
    host: str
    port: int
    adapter: Adapter | None = None
    process: ServerProcess | None = None
    _probe: ProbeClient | None = field(default=None, repr=False)
    connections: list[WireConnection] = field(default_factory=list, repr=False)
    store_warmed: bool = False

    def server_cpu(self) -> float | None:
        """CPU seconds the server's processes used so far; None for a server the suite did not start."""
        return sum(self.process.cpu_by_pid().values()) if self.process is not None else None

    def busy_since(self, cpu: float | None, seconds: float) -> bool:
        """Whether the server used a CPU for at least ``BUSY_SHARE`` of ``seconds`` since its ``server_cpu``
        was ``cpu``: working (a loop computing), not waiting on nothing (deadlocked, or deaf by design). The
        one rule by which a server that leaves a probe unanswered is given longer, after a case
        (``ServerManager.unresponsive``) and inside one (``backpressure.loop-responsive``)."""
        now = self.server_cpu()
        return cpu is not None and now is not None and now - cpu >= BUSY_SHARE * seconds

    def warm_store(self, timeout: float = 5.0) -> None:
        """Ask once, outside any case, for an object the store does not have, so that what a server does on
        its first object request (import botocore, load the S3 service model, open a pool: the reference
        and most adapters do it then or at startup) is not inside the first objects case's bound. Its
        answer is not judged; a server that does not answer is judged by the case that follows. Its bound
        is the objects cases' own head bound (``bounds.STORE_HEAD_S``): a silent server costs it once."""
        if self.store_warmed:
            return
        self.store_warmed = True
        try:
            http_client.get(f"{self.base_url}/object/streamspec-warm-up-absent", timeout=timeout)
        except Exception:  # noqa: BLE001 - not a verdict
            pass

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def local(self) -> bool:
        return self.process is not None

    @property
    def probe(self) -> ProbeClient:
        if self._probe is None:
            self._probe = ProbeClient(self.base_url)
            self._probe.sync()
        return self._probe

    def connect(self, timeout: float = 5.0, rcvbuf: int | None = None) -> WireConnection:
        """A new wire connection; remembered so a failing case can show its trace."""
        conn = WireConnection(self.host, self.port, timeout=timeout, rcvbuf=rcvbuf)
        self.connections.append(conn)
        return conn

    def forget_connections(self) -> None:
        for conn in self.connections:
            conn.close()
        self.connections.clear()

    def traces(self, last: int = 2) -> str:
        shown = [c.exchange for c in self.connections if c.exchange is not None][-last:]
        return "\n---\n".join(ex.trace() for ex in shown)


#: How long after a case its producers may take to finish before the server counts as left loaded.
LEFTOVER_GRACE_S = 0.5

EXTERNAL_CHECK_S = 5.0  # an external URL must answer /health and /probe within this, once, up front

#: A server that leaves a probe unanswered but used a CPU for at least this share of the wait is busy, not hung
#: (``Target.busy_since``); after a case it gets ``BUSY_WAIT_S`` more (``ServerManager.unresponsive``).
BUSY_SHARE = 0.1
BUSY_WAIT_S = 8.0


def check_contract(base_url: str, timeout: float = EXTERNAL_CHECK_S) -> dict:
    """``GET /health`` and ``GET /probe`` of a server the suite did not start; ServerError (one line) when
    it does not answer the contract in time. Returns the probe summary."""
    deadline = time.monotonic() + timeout
    try:
        with http_client.client(base_url, timeout) as http:
            health = http.get("/health")
            if health.status_code != 200 or health.text != "ok\n":
                raise ServerError(f"{base_url} does not serve the contract: GET /health answered "
                                  f"{health.status_code} {health.text[:60]!r} (expected 200 'ok\\n')")
            http.timeout = httpx.Timeout(max(0.1, deadline - time.monotonic()))
            probe = http.get("/probe")
            summary = probe.json() if probe.status_code == 200 else None
    except httpx.TimeoutException:
        raise ServerError(f"{base_url} did not answer /health and /probe within {timeout:.0f} s") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise ServerError(f"{base_url} does not serve the contract: {type(exc).__name__}: {exc}") from None
    if not isinstance(summary, dict) or "now" not in summary:
        raise ServerError(f"{base_url} does not serve the contract: GET /probe answered {probe.status_code} "
                          f"{probe.text[:60]!r}, not the probe's JSON")
    return summary


class ServerManager:
    def __init__(self, adapter: Adapter | None, adapter_name: str, server: str, base_url: str | None,
                 port: int | None, app: str | None, extra_args: tuple[str, ...], python: str | None = None) -> None:
        self.adapter, self.adapter_name, self.server = adapter, adapter_name, server
        self.base_url, self.port, self.app, self.extra_args = base_url, port, app, extra_args
        self.python = python
        self.target: Target | None = None
        self.starts = 0
        #: versions and interpreter as the server's own probe reported them at its first start
        self.server_info: dict | None = None
        #: seconds a busy server took to answer the probe after the last case, when over the first 2 s
        self.late: float | None = None

    def ensure(self) -> Target:
        """The live target, (re)starting the server when it is not running."""
        if self.base_url:
            if self.target is None:
                summary = check_contract(self.base_url)
                self.server_info = {"versions": summary.get("versions") or {},
                                    "executable": summary.get("executable")}
                parts = urlsplit(self.base_url)
                self.target = Target(self.adapter_name, self.server, parts.hostname, parts.port or 80)
            return self.target
        if self.target is not None and self.target.process.alive:
            return self.target
        self.stop()
        python = self.python or self.adapter.python
        # The adapter's distributions, reported by the server's own interpreter; the server's name is one
        # too when it is a distribution (uvicorn, granian...), which the probe reports if installed.
        env = {"STREAMSPEC_PACKAGES": ",".join(self.adapter.packages), "STREAMSPEC_SERVER": self.server}

        def argv_for(port: int) -> list[str]:
            return list(self.adapter.command(LaunchOptions("127.0.0.1", port, self.server, self.app, self.extra_args,
                                                           **({"python": python} if python else {}))))

        name = f"{self.adapter_name}/{self.server}"
        if self.port:  # the user's port: taken is a plain error
            process = ServerProcess(argv_for(self.port), "127.0.0.1", self.port, name=name, env=env).start()
        else:  # a port another server starting beside ours took first is picked again
            process = start_on_free_port(argv_for, name, env=env)
        port = process.port
        self.starts += 1
        self.target = Target(self.adapter_name, self.server, "127.0.0.1", port, self.adapter, process)
        if self.server_info is None:
            summary = self.target.probe.summary()
            self.server_info = {"versions": summary.get("versions") or {}, "executable": summary.get("executable")}
        return self.target

    def unresponsive(self, timeout: float = 2.0, busy_wait: float = BUSY_WAIT_S) -> str | None:
        """A one-line reason when the local server is running but does not answer ``GET /probe`` on a new
        connection within ``timeout`` (a server a case left spinning or deadlocked), else None. The probe,
        not ``/health``: it is what the suite needs to judge anything, and what the server answered to be
        started at all.

        A server that used a CPU for at least a tenth of that time is working, not deadlocked, and gets
        ``busy_wait`` seconds more: a framework that runs an aborted stream's producer on to its end
        generates what is left of it on its loop (falcon under hypercorn: 20 streams, 480 MiB, over 2 s on
        a loaded machine). What it keeps doing is judged by the cases about it (``abort.*``) and, if it is
        still at it, by ``leftovers``; a server that spins for good is deaf after both waits. A server that
        answers late is not deaf; the case's figures say how late (``ServerManager.late``)."""
        t = self.target
        self.late = None
        if t is None or t.process is None or not t.process.alive:
            return None
        cpu = t.server_cpu()
        t0 = time.monotonic()
        for wait in (timeout, busy_wait):
            try:
                answer = http_client.get(f"{t.base_url}/probe", timeout=wait)
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__} within {timeout:g} s"
                if wait == busy_wait:
                    return (f"the {t.process.name} server stopped answering (GET /probe: {failure}, then none in "
                            f"{busy_wait:g} s more while it kept a CPU busy)")
                if not t.busy_since(cpu, timeout):
                    return f"the {t.process.name} server stopped answering (GET /probe: {failure})"
                continue
            if answer.status_code != 200:
                return f"the {t.process.name} server stopped answering properly (GET /probe: {answer.status_code})"
            if wait == busy_wait:
                self.late = round(time.monotonic() - t0, 2)
            return None
        return None

    def abort_for_stacks(self) -> bool:
        """Abort the local server for its threads' stacks (``ServerProcess.abort_for_stacks``), before a
        server that stopped answering is stopped and replaced; True if it printed them and died."""
        t = self.target
        return t is not None and t.process is not None and t.process.abort_for_stacks()

    def leftovers(self, grace: float = LEFTOVER_GRACE_S) -> str | None:
        """A one-line account when what the case that just ended started is still running ``grace`` seconds
        after its connections closed: producers the probe counts ``active``, or fixture files the server
        still holds open. Else None.

        Cases start with nothing running (this is checked after every case). A framework that never stops
        the producer of an aborted stream, or reads on through a file after its client left, keeps doing so
        and loads the server for the next case of the same part: a verdict that would depend on which cases
        ran before it (blacksheep.md BS8, nexios.md N12). The caller restarts the server, so each case meets
        a server with nothing left over. Only for a server this run started: an external one cannot be
        restarted."""
        t = self.target
        if t is None or t.process is None or not t.process.alive:
            return None
        deadline = time.monotonic() + grace
        while True:
            try:
                active = int(t.probe.summary()["active"])
                files = [] if active > 0 else t.probe.resources(only="open").get("open", [])
            except Exception as exc:  # noqa: BLE001 - a server that does not answer now would fail the next case
                return (f"{exc if isinstance(exc, ProbeUnanswered) else f'GET /probe: {type(exc).__name__}'} "
                        f"after this case ended: the server was restarted for the next case")
            if active <= 0 and not files:
                return None
            if time.monotonic() >= deadline:
                what = (f"{active} producer(s) still running" if active > 0 else
                        f"{len(files)} fixture file(s) still open ({', '.join(sorted(set(files))[:3])})")
                return f"{what} {grace:g} s after this case ended: the server was restarted for the next case"
            time.sleep(0.02)

    def died(self, grace: float = 0.0, when: str = "") -> str | None:
        """A one-line reason (ending in ``when``) plus the server's last output lines when the local server
        is no longer running. ``grace``: how long to wait for a server that is dying (its sockets close a
        moment before it can be reaped)."""
        t = self.target
        if t is None or t.process is None:
            return None
        if t.process.alive and grace:
            try:
                t.process.proc.wait(grace)
            except Exception:  # noqa: BLE001 - still running: not dead
                pass
        if t.process.alive:
            return None
        return (f"the {t.process.name} server died (exit code {t.process.proc.returncode}){when}"
                f"{t.process.tail_suffix()}")

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``grace`` seconds. The run's last stop passes a
        short grace: no case judges shutdown, and granian sometimes takes over 5 s to leave after the
        declared-length truncation case, which would otherwise bound a whole concurrent run."""
        if self.target is not None:
            if self.target._probe is not None:
                self.target._probe.close()
            self.target.forget_connections()
            if self.target.process is not None:
                self.target.process.stop(grace=grace)
        self.target = None


__all__ = ["ServerManager", "Target", "ServerError"]
