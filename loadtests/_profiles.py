"""Named load mixes (``--profile NAME``) and the suite's command-line options.

A profile is data: which User classes run with which weights, default users / spawn rate / run time,
and the knobs the users read (stream sizes, reading rate, SSE interval). Anything given on the command
line wins over the profile. ``--profile`` is locust's own option ("a profile to group the test runs
together"), so a run is also labelled by its mix; we only give it meaning.

The knobs are registered as *custom* options on purpose: locust forwards custom options from the
master to every worker with each spawn message, so ``--processes`` and master/worker runs use the
master's resolved values.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
THRESHOLDS = HERE / "thresholds.toml"

#: Knobs every user class reads, with their built-in defaults.
KNOBS = {
    "baseline": 10.0,  # seconds of fast clients only, before the rest of the mix starts
    "stream_mib": 64.0,  # size of a stalled / slow reader's stream (well past the ~4 MB kernel buffers)
    "chunk_kib": 64.0,  # chunk size of those streams
    "slow_rate_kib": 64.0,  # a SlowReader's reading rate, KiB/s
    "stall_seconds": 0.0,  # how long a StalledReader holds its stream; 0: until the run ends
    "sse_interval": 500.0,  # ms between SSE events
    "sse_events": 2000,  # events per SSE subscription (at 500 ms: longer than any run)
    "settle": 3.0,  # seconds after the load before "RSS after" and leaked producers are read
}

PROFILES: dict[str, dict] = {
    # The headline: a server surrounded by clients that read slowly or not at all, and the fast clients
    # who must not notice. 50% stalled, 40% slow, 10% fast.
    "slow-clients": {
        "classes": {"StalledReader": 5, "SlowReader": 4, "FastClient": 1},
        "users": 60, "spawn_rate": 20, "run_time": 60,
    },
    # Many long-lived SSE subscriptions (one event every 500 ms each) plus fast clients.
    "sse-fanout": {
        "classes": {"SseSubscriber": 19, "FastClient": 1},
        "users": 200, "spawn_rate": 50, "run_time": 60,
    },
    # Clients that leave mid-stream at random points (FIN or RST): producers must be cleaned up.
    "aborters": {
        "classes": {"Aborter": 9, "FastClient": 1},
        "users": 50, "spawn_rate": 25, "run_time": 60,
    },
}


def add_arguments(parser) -> None:
    """Register the suite's options (called from the ``init_command_line_parser`` listener)."""
    group = parser.add_argument_group("streamspec load", "see loadtests/README.md; --profile NAME picks a mix: "
                                      + ", ".join(PROFILES))
    group.add_argument("--adapter", default=None,
                       help="start this adapter's server (default: reference, unless --host is given)")
    group.add_argument("--server", default=None, help="server for adapters with several (reference: "
                       "uvicorn, hypercorn, granian)")
    group.add_argument("--app", default=None, help="module:attr, an alternative ASGI app (reference only; "
                       "the gate test serves a broken variant this way)")
    group.add_argument("--thresholds", default=str(THRESHOLDS), help="TOML file of thresholds per profile")
    group.add_argument("--results", default=None,
                       help="results JSON path (default reports/load/<adapter>-<server>-<profile>.json)")
    group.add_argument("--baseline", type=float, default=None,
                       help=f"seconds of fast clients only before the mix (default {KNOBS['baseline']:g})")
    group.add_argument("--stream-mib", type=float, default=None, help="stalled/slow stream size, MiB")
    group.add_argument("--chunk-kib", type=float, default=None, help="chunk size of those streams, KiB")
    group.add_argument("--slow-rate-kib", type=float, default=None, help="SlowReader rate, KiB/s")
    group.add_argument("--stall-seconds", type=float, default=None,
                       help="how long a StalledReader holds a stream (0: until the run ends)")
    group.add_argument("--sse-interval", type=float, default=None, help="ms between SSE events")
    group.add_argument("--sse-events", type=int, default=None, help="events per SSE subscription")
    group.add_argument("--settle", type=float, default=None,
                       help="seconds after the load before RSS-after and leaked producers are read")


def resolve(options) -> dict:
    """Fill unset knobs and headless defaults from the profile; return the profile (may be empty)."""
    name = getattr(options, "profile", None)
    if name and name not in PROFILES:
        raise SystemExit(f"unknown --profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    profile = PROFILES.get(name, {})
    for knob, default in KNOBS.items():
        if getattr(options, knob, None) is None:
            setattr(options, knob, profile.get(knob, default))
    if getattr(options, "num_users", None) is None and "users" in profile:
        options.num_users = profile["users"]
    if getattr(options, "spawn_rate", None) is None and "spawn_rate" in profile:
        options.spawn_rate = profile["spawn_rate"]
    if not getattr(options, "run_time", None) and "run_time" in profile and getattr(options, "headless", False):
        options.run_time = profile["run_time"]
    return profile


def select_classes(environment, profile: dict) -> None:
    """Keep the profile's classes (those also named on the command line, if any) with its weights."""
    weights = profile.get("classes")
    if not weights:
        return
    named = set(environment.parsed_options.user_classes or ())
    chosen = [c for c in environment.available_user_classes.values()
              if c.__name__ in weights and (not named or c.__name__ in named)]
    if not chosen:
        raise SystemExit(f"profile {environment.parsed_options.profile!r} selects none of the classes named")
    for cls in chosen:
        cls.weight = weights[cls.__name__]
    environment.user_classes[:] = chosen


def load_thresholds(path: str, profile: str | None) -> dict:
    import tomllib

    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    return dict(table.get(profile or "default", table.get("default", {})))


#: perf_counter() of this process's ``test_start`` (every runner, workers too): the phase clock the
#: users read to tell the fast-only baseline from the mix.
PHASE = {"start": None}
