"""Settings of the comparison Django project: no database, no middleware, DEBUG off.

The leanest set-up that serves the endpoint, which favours django-modern-rpc in the comparison.
"""

from __future__ import annotations

# Loopback-only benchmark server; the key signs nothing that leaves this machine.
SECRET_KEY = "rpcbridge-benchmark-only-not-a-secret"  # noqa: S105 -- see the comment above
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["modernrpc"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "benchmarks.django_echo.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
WSGI_APPLICATION = "benchmarks.django_echo.wsgi.application"
