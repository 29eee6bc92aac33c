"""The gRPC transport only: channels, servers, streams, the `Value` mapping, the request-head reader.

The one package that imports grpc and the generated stubs; it imports nothing of the sidecar.
"""
