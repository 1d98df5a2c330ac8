"""Tracebacks pytest can print.

On CPython 3.11 a traceback entry's ``tb_lineno`` can be ``None`` (an instruction with no line number,
e.g. where an exception passes through an async generator being closed). pytest computes
``tb_lineno - 1`` for every entry it prints, so such a failure became an INTERNALERROR that ended the
whole part without a results file (seen once in CI, in ``uploads_as_text``'s run). The case's verdict is
the exception, not its line numbers: entries without one get their frame's first line instead.
"""

from __future__ import annotations

import types


def _repaired_chain(tb: types.TracebackType | None) -> types.TracebackType | None:
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if all(entry.tb_lineno is not None for entry in entries):
        return entries[0] if entries else None
    rebuilt = None
    for entry in reversed(entries):
        lasti, lineno = entry.tb_lasti, entry.tb_lineno
        if lineno is None:  # the frame's own position: its last instruction and line (or its first line)
            frame = entry.tb_frame
            lasti, lineno = frame.f_lasti, frame.f_lineno or frame.f_code.co_firstlineno
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, lasti, lineno)
    return rebuilt


def repair(exc: BaseException) -> bool:
    """Give every traceback entry of ``exc``, its causes, contexts and group members a line number.
    Returns whether anything was changed."""
    changed, seen, todo = False, set(), [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        fixed = _repaired_chain(tb)
        if fixed is not tb:
            current.__traceback__ = fixed
            changed = True
        todo += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return changed
