"""The sidecar process: dispatcher, interceptors, catalogue and routing, worker pool, jobs (`main.py`).

Imports no grpc (`bridge.rpc` is its transport) and no aiohttp (`bridge.admin` is its web UI).
"""
