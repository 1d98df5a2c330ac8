"""Django settings of the streamspec Django adapter (``DJANGO_SETTINGS_MODULE=adapters.django_settings``).

A project as ``django-admin startproject`` makes it, minus what needs a database (the brief: no database):
no ``DATABASES``, no ``django.contrib`` apps, and of startproject's default ``MIDDLEWARE`` only the four
that need neither (sessions, auth and messages need their contrib apps and a database). ``DEBUG`` is off,
as in production: an error answers Django's plain ``500`` page, never a debug page.

``FILERESPONSE_S3_*`` configure the seed library django-fileresponse (``AiobotocoreFileResponse`` reads
them, seed doc /work/shared/seeds/003_*) from the store the suite started (``streamspec.files``).
"""

from __future__ import annotations

from streamspec import files

SECRET_KEY = "streamspec-django-adapter-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]  # the suite's clients send Host: 127.0.0.1:<port>, the repro scripts "x"
ROOT_URLCONF = "streamspec.adapters.django_app"
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
USE_TZ = True

# Where /file and /file-stream serve from (set by the suite; None when it set none).
STREAMSPEC_FILES_ROOT = str(files.served_root()) if files.served_root() else None

_store = files.store_config() or {}
FILERESPONSE_S3_ENDPOINT_URL = _store.get("endpoint_url")
FILERESPONSE_S3_REGION = files.S3_CREDENTIALS["region_name"]
FILERESPONSE_S3_ACCESS_KEY_ID = files.S3_CREDENTIALS["aws_access_key_id"]
FILERESPONSE_S3_SECRET_ACCESS_KEY = files.S3_CREDENTIALS["aws_secret_access_key"]
FILERESPONSE_S3_USE_SSL = False
STREAMSPEC_S3_BUCKET = files.bucket()

# Django's default LOGGING prints request errors to the console only when DEBUG is on; the suite shows a
# failed case's server output, so errors (tracebacks of 500s, mid-stream exceptions) go to stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR"}},
}
