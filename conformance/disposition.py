"""A strict reader of ``Content-Disposition`` (RFC 6266 §4.1) with RFC 8187 ext-values, sans-IO.

It answers what a careful user agent would conclude: the disposition type, the ``filename`` (token or
quoted-string, unescaped) and the decoded ``filename*``, or an error naming what is broken.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e])*"'
_PARAM = re.compile(rf"\s*;\s*({_TOKEN})\s*=\s*({_TOKEN}|{_QUOTED})\s*")
_EXT = re.compile(r"^(UTF-8|ISO-8859-1)'[A-Za-z0-9-]*'((?:%[0-9A-Fa-f]{2}|[!#$&+.^_`|~0-9A-Za-z-])*)$", re.I)


class Broken(AssertionError):
    """The header is not valid RFC 6266 / RFC 8187 (the message says why)."""


def parse(value: str) -> tuple[str, dict[str, str]]:
    """(disposition type, {param name (lower): value}); ``filename*`` is decoded."""
    if any(ord(c) > 0x7E or (ord(c) < 0x20 and c != "\t") for c in value):
        bad = next(c for c in value if ord(c) > 0x7E or (ord(c) < 0x20 and c != "\t"))
        raise Broken(f"raw byte {ord(bad):#04x} in the header: only ASCII is valid (non-ASCII goes in filename*)")
    match = re.match(rf"\s*({_TOKEN})", value)
    if not match:
        raise Broken(f"no disposition type at the start of {value!r}")
    pos, params = match.end(), {}
    while pos < len(value):
        param = _PARAM.match(value, pos)
        if not param:
            raise Broken(f"cannot read a parameter at offset {pos} of {value!r}")
        name, raw = param[1].lower(), param[2]
        if name in params:
            raise Broken(f"parameter {name} appears twice in {value!r}")
        if name.endswith("*"):
            ext = _EXT.match(raw)
            if not ext:
                raise Broken(f"{name}={raw!r} is not an RFC 8187 ext-value (charset'lang'pct-encoded)")
            try:
                params[name] = unquote_to_bytes(ext[2]).decode(ext[1].lower().replace("iso-8859-1", "latin-1"))
            except UnicodeDecodeError:
                raise Broken(f"{name}={raw!r} does not decode as {ext[1]}") from None
        elif raw.startswith('"'):
            params[name] = re.sub(r"\\(.)", r"\1", raw[1:-1])
        else:
            params[name] = raw
        pos = param.end()
    return match[1].lower(), params
