"""A failure whose traceback has an entry without a line number (CPython 3.11 gives ``tb_lineno is
None`` for some instructions) is reported as a failure of its case, not a pytest INTERNALERROR that ends
the run without a results file (seen in CI)."""

import types

import pytest

from conformance import tracebacks


def _raise():
    raise ValueError("the case's own message")


def _lineless_error() -> ValueError:
    """A ValueError whose innermost traceback entry has no line number (an ``tb_lasti`` past the code)."""
    try:
        _raise()
    except ValueError as exc:
        tb = exc.__traceback__
        inner = types.TracebackType(None, tb.tb_next.tb_frame, 10**6, -1)
        exc.__traceback__ = types.TracebackType(inner, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
        return exc


def test_lineless_entry_is_what_pytest_cannot_print():
    exc = _lineless_error()
    assert exc.__traceback__.tb_next.tb_lineno is None
    with pytest.raises(TypeError):
        pytest.ExceptionInfo.from_exception(exc).getrepr()


def test_repair_gives_every_entry_a_line_and_keeps_the_message():
    group = ExceptionGroup("parts", [_lineless_error()])
    wrapper = RuntimeError("wrapper")
    wrapper.__cause__ = group
    assert tracebacks.repair(wrapper)
    member = group.exceptions[0]
    assert member.__traceback__.tb_next.tb_lineno in (_raise.__code__.co_firstlineno, _raise.__code__.co_firstlineno + 1)
    text = str(pytest.ExceptionInfo.from_exception(member).getrepr())
    assert "the case's own message" in text
    assert not tracebacks.repair(wrapper)  # nothing left to repair
