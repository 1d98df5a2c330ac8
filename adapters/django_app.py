"""The scenario contract served by Django 5.2 under ASGI, each route written the way Django's docs teach it.

The ASGI application is ``application`` (also ``app``), built as the seed library django-fileresponse
teaches (/work/shared/seeds/003_*): ``fileresponse.asgi.get_asgi_application()``, i.e. Django's own
``ASGIHandler`` subclassed as ``AsyncFileASGIHandler``, which hands a response that has
``is_async_fileresponse`` the ASGI ``send`` callable and passes every other response to Django's own
``ASGIHandler.send_response`` unchanged. So /stream, /sse, /file, /probe and /health are plain Django and
/file-stream, /object are the library's. Settings: ``adapters/django_settings.py`` (no database).
Django 5.2.x: Django 6 needs Python >= 3.12 and the suite runs on Python 3.11.

Routes (function views, ``django.urls.path``; a Django view answers every method, so HEAD reaches the
same view as GET and the server drops the body):

* ``/stream``, ``/sse``: ``async def`` views returning ``StreamingHttpResponse(async_iterator, ...)``
  (Django's "Streaming large CSV files" / StreamingHttpResponse reference: since Django 4.2 an
  asynchronous iterator is consumed natively under ASGI). ``ASGIHandler.handle`` runs the response in a
  task beside a task that waits for ``http.disconnect`` and cancels the response task when the client
  leaves (Django 5.0+, "Handling disconnects" in the async docs); ``send_response`` consumes the response
  through ``aclosing(aiter(response))``. Nothing here watches for disconnects or catches producer
  errors: a ``ProducerError`` before the response becomes Django's 500 page (``response_for_exception``,
  ``handler500``); a mid-stream one propagates out of ``ASGIHandler.handle`` to the server.
  Django has no SSE API: ``/sse`` yields each logical event framed by the shared ``streamspec.sse.encode``
  (keep-alives as comment lines) as ``str`` blocks, which ``StreamingHttpResponse`` encodes with the
  response charset (UTF-8).
* ``raise_as=http``: Django has no exception that answers with a chosen status. Its view exceptions are
  ``Http404`` (404), ``PermissionDenied`` (403), ``BadRequest``/``SuspiciousOperation`` (400); any other
  status, 503 included, is *returned* (``HttpResponse(status=503)``), never raised. So the adapter lacks
  ``http-errors`` (``adapters/django_adapter.py``) and passes no ``http_error`` factory.
* ``/file/<name>``: Django's native file response, a *sync* view as the ``FileResponse`` reference shows
  it: ``FileResponse(path.open("rb"), as_attachment=True, filename=name)`` (Content-Type from the name,
  Content-Length from the file, Content-Disposition from ``content_disposition_header``). Path safety:
  the user-supplied name goes through Django's documented file storage API,
  ``FileSystemStorage(location=root).path(name)``, which joins with ``django.utils._os.safe_join`` and
  raises ``SuspiciousFileOperation`` (Django answers 400) for a name outside the root; that is the check
  Django's own file view ``django.views.static.serve`` makes (``safe_join`` itself is private API: the
  storage is its public face). Then, as ``static.serve`` does, a directory or a missing file is
  ``raise Http404`` (the tutorial's "Raising a 404 error"). Nothing else: no symlink resolution, no Range,
  no conditional requests (Django's docs teach none for a download view). Under ASGI Django consumes the
  ``FileResponse``'s sync file iterator whole before the first body byte (reports/findings/django.md D2).
* ``/file-stream/<name>``: the seed's ``AiofileFileResponse(path, chunk_size=4096)`` (aiofiles), the path
  from the same checks (the seed's own example view joins the name with no check at all; the checks come
  first because the response opens the file only once the handler streams it). Content-Disposition set
  the Django way
  (``response["Content-Disposition"] = content_disposition_header(True, name)``): the seed's response has
  no attachment option. Kept as the library has it: no Content-Length (its responses never compute one),
  every chunk appended to a list it never reads (``send_stream_to_client``), a zero-length last body
  message, no Range.
* ``/object/<key>``: the seed's ``AiobotocoreFileResponse(bucket, key, chunk_size=4096, endpoint_url=...)``
  with ``FILERESPONSE_S3_*`` settings. Its ``stream()`` calls ``aiobotocore.get_session()``, which
  aiobotocore removed from its top level in 1.4.0 (3.10.0 here; the supported import is
  ``from aiobotocore.session import get_session``), and django-fileresponse pins no version: as released, every /object request fails with
  ``AttributeError: module 'aiobotocore' has no attribute 'get_session'`` (reports/findings/django.md).
  The adapter therefore subclasses it and overrides only ``stream()`` with that one call corrected; the
  streaming loop (``AsyncResponse.send_stream_to_client``) stays the library's own code, flaws included:
  it never passes the request's Range to ``get_object``, always answers 200, never passes the store's
  Content-Length, Content-Range, ETag, Last-Modified or Content-Type back (``application/octet-stream``
  always), turns a store error (404, 416) into an exception before the head (the server's 500), and keeps
  every chunk of the object in a list until the response ends. The store body is released by the
  library's ``async with minio_response["Body"]`` when Django's disconnect listener cancels the response.

The server (``python -m adapters.django_adapter --server S``): ``uvicorn adapters.django_app:application
--http h11`` as Django's "How to use Django with Uvicorn" (``python -m pip install uvicorn``: plain uvicorn,
so its h11 protocol; lifespan left at uvicorn's "auto": Django's ``ASGIHandler`` refuses the lifespan scope)
or ``daphne -b H -p P adapters.django_app:application`` ("How to use Django with Daphne").
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streamspec.adapters.django_settings")

from aiobotocore.session import get_session  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.storage import FileSystemStorage  # noqa: E402
from django.http import (  # noqa: E402
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path  # noqa: E402
from django.utils.http import content_disposition_header  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_http_methods, require_POST  # noqa: E402
from fileresponse import http as fileresponse_http  # noqa: E402
from fileresponse.asgi import get_asgi_application  # noqa: E402
from fileresponse.http import AiofileFileResponse  # noqa: E402

from streamspec.contract import PlanError, StreamPlan  # noqa: E402
from streamspec.files import CHUNK_SIZE  # noqa: E402
from streamspec.probe import PROBE  # noqa: E402
from streamspec.producer import open_stream  # noqa: E402
from streamspec.sse import HEADERS as SSE_HEADERS  # noqa: E402
from streamspec.sse import SsePlan, produce_text  # noqa: E402
from streamspec.uploads import UploadLog, UploadPlan, echo_transform  # noqa: E402

#: the size of each ``request.read(n)``: Django's own upload chunk (``FileUploadHandler.chunk_size``, 64 KiB)
UPLOAD_CHUNK = 64 * 2**10


def query_of(request) -> dict[str, str]:
    """First value of each query parameter, blanks kept (``sizes=`` means zero chunks), as the reference
    reads them (``QueryDict`` keeps blank values)."""
    return {key: values[0] for key, values in request.GET.lists()}


async def stream(request):
    try:
        plan = StreamPlan.from_query(query_of(request))
    except PlanError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    # A ProducerError here propagates before anything was sent: Django answers its 500 page.
    producer = open_stream(plan)
    response = StreamingHttpResponse(producer, content_type="application/octet-stream")
    response["Cache-Control"] = "no-store"
    if plan.content_length:
        response["Content-Length"] = str(plan.total)
    return response


async def sse(request):
    try:
        plan = SsePlan.from_request(query_of(request), request.headers.get("Last-Event-ID"))
    except PlanError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    if plan.exhausted:
        return HttpResponse(status=204)  # nothing left: tells a browser to stop reconnecting
    headers = dict(SSE_HEADERS)
    content_type = headers.pop("content-type")
    return StreamingHttpResponse(produce_text(plan), content_type=content_type, headers=headers)


async def probe(request):
    return JsonResponse(PROBE.snapshot(query_of(request).get("id")), headers={"Cache-Control": "no-store"})


async def health(request):
    return HttpResponse("ok\n", content_type="text/plain")


def fixture_path(name: str) -> Path:
    """The served file for a user-supplied name, checked as ``django.views.static.serve`` checks it:
    joined by the storage API (``FileSystemStorage.path``: ``safe_join``, ``SuspiciousFileOperation`` ->
    400), a directory or a missing file -> ``Http404``."""
    fullpath = Path(FileSystemStorage(location=settings.STREAMSPEC_FILES_ROOT).path(name))
    if fullpath.is_dir() or not fullpath.exists():
        raise Http404("no such file")
    return fullpath


def file(request, name: str):
    """Django's native file response, as the ``FileResponse`` reference writes a download (a sync view:
    Django runs it in its thread executor under ASGI)."""
    return FileResponse(fixture_path(name).open("rb"), as_attachment=True, filename=name)


async def file_stream(request, name: str):
    """The seed's ``AiofileFileResponse(path, chunk_size=4096)`` (its docs' ``aget_file`` view)."""
    response = AiofileFileResponse(fixture_path(name), chunk_size=CHUNK_SIZE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


class AiobotocoreFileResponse(fileresponse_http.AiobotocoreFileResponse):
    """django-fileresponse 0.1.0's ``AiobotocoreFileResponse`` with the one call aiobotocore 3.x lacks
    replaced: ``aiobotocore.get_session()`` -> ``aiobotocore.session.get_session()``. Everything else,
    the body loop included, is the library's (``AsyncResponse.send_stream_to_client``)."""

    async def stream(self, send):
        session = get_session()  # the library: aiobotocore.get_session()
        async with session.create_client("s3", **self.client_config) as client:
            minio_response = await client.get_object(Bucket=self.bucket, Key=self.key)
            async with minio_response["Body"] as stream:
                await self.send_stream_to_client(stream, send)


async def s3_object(request, key: str):
    return AiobotocoreFileResponse(settings.STREAMSPEC_S3_BUCKET, key, chunk_size=CHUNK_SIZE,
                                   endpoint_url=settings.FILERESPONSE_S3_ENDPOINT_URL)


@csrf_exempt  # a raw-body API endpoint: no CSRF token (Django's CSRF docs: csrf_exempt)
@require_http_methods(["POST", "PUT"])
async def upload(request):
    """``POST|PUT /upload``: the body through ``HttpRequest``'s file-like interface, ``request.read(n)`` in
    chunks (the request/response reference: "This makes it possible to consume an incoming request in a
    streaming fashion"). Under ASGI the view runs only once ``ASGIHandler.read_body`` has spooled the whole
    body (django/core/handlers/asgi.py:174, 256-275), so these reads never wait for the network."""
    try:
        plan = UploadPlan.from_query(query_of(request))
    except PlanError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    with UploadLog(plan) as log:
        if plan.reject:
            return HttpResponse(b"rejected\n", status=plan.reject, content_type="text/plain")
        while chunk := request.read(UPLOAD_CHUNK):
            log.piece(chunk)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return JsonResponse(answer)


@csrf_exempt
@require_POST
async def echo(request):
    """``POST /echo``: a ``StreamingHttpResponse`` over an async generator that reads ``request.read(n)``
    and yields each transformed piece. Django cannot start it before the body has arrived: the view itself
    runs only after ``read_body`` (the adapter lacks "echo")."""
    try:
        plan = UploadPlan.from_query(query_of(request))
    except PlanError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")

    async def echoed():
        with UploadLog(plan) as log:
            while chunk := request.read(UPLOAD_CHUNK):
                log.piece(chunk)
                yield echo_transform(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return StreamingHttpResponse(echoed(), content_type="application/octet-stream",
                                 headers={"Cache-Control": "no-store"})


urlpatterns = [
    path("stream", stream),
    path("sse", sse),
    path("probe", probe),
    path("health", health),
    path("upload", upload),
    path("echo", echo),
    path("file/<str:name>", file),
    path("file-stream/<str:name>", file_stream),
    path("object/<str:key>", s3_object),
]

application = get_asgi_application()
app = application
