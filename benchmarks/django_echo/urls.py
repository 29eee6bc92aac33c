"""One route: /rpc, answering XML-RPC and JSON-RPC by Content-Type."""

from __future__ import annotations

from django.urls import path

from benchmarks.django_echo.procedures import server

urlpatterns = [path("rpc", server.view)]
