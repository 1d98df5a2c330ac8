"""Every wait and bound the cases use, in one place, each with the reason for its size.

Waits are bounded by what a case needs, never by a generic long read: a server that accepts and never
answers, or sends a head and then nothing, fails each case within a few seconds. Bounds are generous
against a correct server on a loaded 2-core machine (the reference answers a head in about 2 ms and
cleans up after an abort in under 2 ms), and still far below what the broken variants in tests/ do.
"""

#: A response head for a request whose producer waits nothing before its first chunk. Servers that
#: hold the head until the first body message (allowed by ASGI) still answer within this plus the delay.
HEAD_S = 2.0
#: A body of a few KiB after its head, or the rest of a small stream.
BODY_S = 3.0
#: The producer of a request must have started this soon after the request was sent.
PRODUCER_START_S = 2.0
#: From the client leaving to the producer's ``finally`` (cleanup).
CLEANUP_S = 2.0
#: How much longer than ``CLEANUP_S`` a case keeps watching for a late cleanup, only so that its message
#: can tell "late" (with the latency) from "not at all"; the verdict is the same either way.
CLEANUP_GRACE_S = 0.5
#: A truncated response (producer raised) must close the connection this soon after its last byte.
PROMPT_CLOSE_S = 2.0
#: Flush timing (per write; conformance/timing.py): the latency from "chunk produced" to "its last byte
#: arrived" within which a prompt item arrives, and the share of the gap between two writes within which
#: an item counts as on time.
FLUSH_PROMPT_S = 0.05
FLUSH_WORST_SHARE = 0.5
#: Most body bytes an SSE exchange may keep (the contract's events are a few KiB).
SSE_BODY_LIMIT = 256 * 1024
#: A response head for an object of the S3-compatible store: the server asks the store first (and a server
#: that makes an S3 client per request, as the seed library does, loads botocore's service model each
#: time: about 0.3 s, a second or two on a loaded machine).
STORE_HEAD_S = 5.0
#: The whole of a download the cases read at full speed (up to 32 MiB) while its bytes keep coming: a
#: server that stalls is judged by the gap between bytes, this only caps a server that trickles.
DOWNLOAD_CAP_S = 60.0
