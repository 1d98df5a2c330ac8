"""The server under load: started through the suite's own launcher, and watched while the load runs.

Starting goes through ``streamspec.registry`` + ``Adapter.command`` + ``streamspec.launch.ServerProcess``
exactly as ``conformance/target.py`` does (readiness by probe pid, process-group teardown, die-with-
parent), so the load suite has no launcher of its own.

``Sampler`` reads, twice a second, the server tree's RSS and CPU (children included: granian and
sanic fork workers), its ESTABLISHED connections on our port (the "open streams" denominator of RSS
per stream), the probe's count of producers alive, and this locust process tree's own CPU (the
benchmark needs it). Each sample carries the phase it was taken in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gevent
import psutil

from streamspec import registry
from streamspec.adapter import LaunchOptions
from streamspec.launch import ServerProcess, free_port, http_get_json

SAMPLE_EVERY = 0.5


def start_server(adapter_name: str, server: str | None, app: str | None) -> tuple[ServerProcess, str]:
    adapter = registry.get(adapter_name)
    server = server or adapter.default_server
    if server not in adapter.servers:
        raise SystemExit(f"adapter {adapter_name} has no server {server!r}; valid: {', '.join(adapter.servers)}")
    if app and not adapter.accepts_app:
        raise SystemExit(f"--app works with the reference adapter only, not {adapter_name}")
    missing = adapter.missing_modules()
    if missing:
        raise SystemExit(f"adapter {adapter_name} needs {', '.join(missing)}: pip install -e '.[{adapter.extra}]'")
    port = free_port()
    options = LaunchOptions("127.0.0.1", port, server, app)
    process = ServerProcess(adapter.command(options), "127.0.0.1", port, name=f"{adapter_name}/{server}")
    process.start()
    return process, server


@dataclass
class Sample:
    t: float
    phase: str
    rss: int
    cpu: float  # percent of one core, server tree
    conns: int
    active: int | None  # producers alive (probe)
    own_cpu: float  # percent of one core, locust process tree


@dataclass
class Sampler:
    process: ServerProcess | None
    host: str
    port: int
    phase: str = "idle"
    samples: list[Sample] = field(default_factory=list)
    _procs: dict = field(default_factory=dict)
    _own: dict = field(default_factory=dict)
    _greenlet: object = None

    def _cpu(self, pids, cache) -> float:
        total = 0.0
        for pid in pids:
            proc = cache.get(pid)
            try:
                if proc is None:
                    proc = cache[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)  # first call primes the counter
                    continue
                total += proc.cpu_percent(None)
            except psutil.NoSuchProcess:
                cache.pop(pid, None)
        return total

    def _conns(self, pids) -> int:
        count = 0
        for pid in pids:
            try:
                for c in psutil.Process(pid).net_connections(kind="tcp"):
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == self.port:
                        count += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return count

    def sample(self) -> Sample:
        try:
            active = http_get_json(self.host, self.port, "/probe", timeout=2.0).get("active")
        except Exception:
            active = None
        me = psutil.Process()
        own_pids = [me.pid, *(c.pid for c in me.children(recursive=True) if c.pid not in self._server_pids())]
        if self.process is not None:
            pids = self._server_pids()
            s = Sample(time.time(), self.phase, self.process.rss(), self._cpu(pids, self._procs),
                       self._conns(pids), active, self._cpu(own_pids, self._own))
        else:
            s = Sample(time.time(), self.phase, 0, 0.0, 0, active, self._cpu(own_pids, self._own))
        self.samples.append(s)
        return s

    def _server_pids(self) -> set[int]:
        return self.process.pids() if self.process is not None else set()

    def run(self) -> None:
        while True:
            try:
                self.sample()
            except Exception:  # a sampling hiccup must never end the run
                pass
            gevent.sleep(SAMPLE_EVERY)

    def start(self) -> None:
        self._greenlet = gevent.spawn(self.run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None

    def of(self, *phases: str) -> list[Sample]:
        return [s for s in self.samples if s.phase in phases]
