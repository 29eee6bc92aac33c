"""mTLS between sidecar and workers: calls flow; a client without a certificate of the CA gets nothing."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bridge.rpc.values import to_value
from bridge.testing import deployment
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call

LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


def issue(
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    san: x509.GeneralName = LOOPBACK,
) -> tuple[bytes, bytes, x509.Name, ec.EllipticCurvePrivateKey]:
    """A PEM certificate and key: a CA when `issuer` is None, else a server-and-client leaf for `san`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0] if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem, name, key


def write_pki(directory: Path, ca_name: str, san: x509.GeneralName = LOOPBACK) -> dict[str, Path]:
    ca_pem, _, ca_subject, ca_key = issue(ca_name, None)
    leaf_pem, leaf_key, _, _ = issue("rpcbridge", (ca_subject, ca_key), san)
    files = {
        "ca": directory / f"{ca_name}.pem",
        "cert": directory / f"{ca_name}-leaf.pem",
        "key": directory / f"{ca_name}-leaf.key",
    }
    files["ca"].write_bytes(ca_pem)
    files["cert"].write_bytes(leaf_pem)
    files["key"].write_bytes(leaf_key)
    return files


def test_mtls_between_sidecar_and_workers(tmp_path: Path) -> None:
    """With worker_tls_* set, the bridge works, and plaintext or foreign-CA clients cannot reach a worker."""
    ours = write_pki(tmp_path, "bridge-ca")
    env = {f"RPCBRIDGE_WORKER_TLS_{part.upper()}": str(path) for part, path in ours.items()}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path / "run") as bridge:
        assert xmlrpc_call(bridge.url + "/rpc", "echo", "over mTLS") == "over mTLS"
        worker = bridge.workers[0].facts["address"]
        request = worker_pb2.InvokeRequest(procedure="echo", params=[to_value("x")])
        with grpc.insecure_channel(worker) as plaintext, pytest.raises(grpc.RpcError):
            worker_pb2_grpc.WorkerStub(plaintext).Invoke(request, timeout=5)
        theirs = write_pki(tmp_path, "other-ca")
        foreign = grpc.ssl_channel_credentials(
            root_certificates=ours["ca"].read_bytes(),
            private_key=theirs["key"].read_bytes(),
            certificate_chain=theirs["cert"].read_bytes(),
        )
        with grpc.secure_channel(worker, foreign) as channel, pytest.raises(grpc.RpcError) as raised:
            worker_pb2_grpc.WorkerStub(channel).Invoke(request, timeout=5)
        assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
