"""The smallest Django project serving `echo` with django-modern-rpc (XML-RPC and JSON-RPC at /rpc).

Runs only in the bench virtualenv (.venv-bench), under gunicorn; imports nothing from the bridge.
"""
