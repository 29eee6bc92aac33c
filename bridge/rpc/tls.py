"""gRPC credentials for mutual TLS between the sidecar and its workers (setting `worker_tls_*`)."""

from __future__ import annotations

import grpc

from bridge.errors import ConfigError
from bridge.settings import TlsFiles


def _read(files: TlsFiles) -> tuple[bytes, bytes, bytes]:
    try:
        return files.ca.read_bytes(), files.cert.read_bytes(), files.key.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read a worker TLS file: {exc}") from exc


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """A worker's TLS identity; it demands a client certificate signed by the CA."""
    ca, cert, key = _read(files)
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)


def channel_credentials(files: TlsFiles) -> grpc.ChannelCredentials:
    """The sidecar's TLS identity towards workers, trusting only the CA."""
    ca, cert, key = _read(files)
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
