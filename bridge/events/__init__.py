"""Events as plain data: the `Event` record, listener filters, delivery bodies and their signatures.

Pure building blocks shared by the worker SDK, the sidecar and the frontend; imports no I/O framework.
"""
