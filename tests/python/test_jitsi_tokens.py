"""Jitsi tokens minted by hie-vc, checked by PyJWT — an independent JWT implementation — claim by
claim, for self-hosted HS256, self-hosted RS256 and 8x8 JaaS; and tokens minted by PyJWT verified
by hie-vc. Expired tokens, wrong keys and missing settings must fail with clear, typed errors.

The SDK is driven through the `jitsi_mint` example (JSON in, JSON out). Set HIEVC_JITSI_MINT to
a built binary to skip the cargo build.
"""

import json
import os
import pathlib
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = "prosody-app-secret-0123456789abcdef"
JAAS_APP = "vpaas-magic-cookie-0123456789abcdef"
CLAIMS = {"iss", "aud", "sub", "room", "iat", "nbf", "exp", "context"}

DOCTOR = {"role": "practitioner", "id": "prac-7", "name": "Dr Aminah", "email": "aminah@example.org"}
PATIENT = {"role": "patient", "id": "950728106051", "name": "Siti Nur", "avatar": "https://img.example/siti.png"}


@pytest.fixture(scope="session")
def mint_bin():
    path = os.environ.get("HIEVC_JITSI_MINT")
    if path:
        return [path]
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", "hie-vc", "--example", "jitsi_mint", "--message-format=json"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "jitsi_mint" and msg.get("executable"):
            return [msg["executable"]]
    pytest.fail("cargo built no jitsi_mint executable")


def call(bin_, request, ok=True):
    p = subprocess.run(bin_, input=json.dumps(request), capture_output=True, text=True, timeout=120)
    assert p.stdout, p.stderr
    out = json.loads(p.stdout)
    assert p.returncode == (0 if ok else 2), out
    return out


def pem_pair(fmt):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


@pytest.fixture(scope="session")
def keys():
    return {
        "pkcs1": pem_pair(serialization.PrivateFormat.TraditionalOpenSSL),
        "pkcs8": pem_pair(serialization.PrivateFormat.PKCS8),
    }


def check_user(claims, person, moderator):
    user = claims["context"]["user"]
    assert user["id"] == person["id"]
    assert user["name"] == person["name"]
    assert user.get("email") == person.get("email")
    assert user.get("avatar") == person.get("avatar")
    assert user["moderator"] is moderator
    assert set(user) == {"id", "name", "moderator"} | {k for k in ("email", "avatar") if k in person}


def check_times(claims, before, ttl):
    assert before <= claims["iat"] <= time.time() + 1
    assert claims["nbf"] == claims["iat"] - 10
    assert claims["exp"] == claims["iat"] + ttl


def test_self_hosted_hs256_every_claim(mint_bin):
    before = int(time.time())
    out = call(mint_bin, {
        "provider": "self-hosted", "domain": "meet.example.org", "app_id": "hie-vc",
        "app_secret": SECRET, "participants": [DOCTOR, PATIENT],
    })
    room = out["room"]
    assert room == "vc-" + out["session_token"]
    for join, person, moderator in zip(out["joins"], [DOCTOR, PATIENT], [True, False]):
        token = join["token"]
        header = jwt.get_unverified_header(token)
        assert header == {"alg": "HS256", "typ": "JWT"}
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="hie-vc",
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )
        assert set(claims) == CLAIMS
        assert claims["sub"] == "meet.example.org"
        assert claims["room"] == room
        assert set(claims["context"]) == {"user"}
        check_user(claims, person, moderator)
        check_times(claims, before, 7200)
        assert join["expires_at"] == claims["exp"]
        assert join["url"] == f"https://meet.example.org/{room}?jwt={token}"
        assert join["role"] == person["role"]


@pytest.mark.parametrize("fmt", ["pkcs1", "pkcs8"])
def test_self_hosted_rs256_every_claim(mint_bin, keys, fmt):
    private, public = keys[fmt]
    before = int(time.time())
    out = call(mint_bin, {
        "provider": "self-hosted", "domain": "meet.example.org", "app_id": "hie-vc",
        "private_key_pem": private, "kid": "hie-vc/2026-11", "tenant": "klinik-a",
        "audience": "jitsi-meet", "ttl_secs": 900, "session_token": "Session.Token/1",
        "participants": [PATIENT],
    })
    join = out["joins"][0]
    token = join["token"]
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "hie-vc/2026-11"}
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="jitsi-meet", issuer="hie-vc")
    assert set(claims) == CLAIMS
    assert claims["sub"] == "klinik-a"
    # A token that is not a room name is hashed, never lowercased into another session's room.
    assert claims["room"] == out["room"] and claims["room"].startswith("vc-h") and len(claims["room"]) == 36
    check_user(claims, PATIENT, False)
    check_times(claims, before, 900)
    parts = urlsplit(join["url"])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "meet.example.org", f"/klinik-a/{claims['room']}")
    assert parse_qs(parts.query) == {"jwt": [token]}


@pytest.mark.parametrize("fmt", ["pkcs1", "pkcs8"])
def test_jaas_every_claim(mint_bin, keys, fmt):
    private, public = keys[fmt]
    features = {"livestreaming": False, "recording": True, "transcription": True, "outbound-call": False}
    before = int(time.time())
    out = call(mint_bin, {
        "provider": "jaas", "app_id": JAAS_APP, "key_id": "4f4910", "private_key_pem": private,
        "features": features, "session_token": "abc-123", "participants": [DOCTOR, PATIENT],
    })
    for join, person, moderator in zip(out["joins"], [DOCTOR, PATIENT], [True, False]):
        token = join["token"]
        assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": f"{JAAS_APP}/4f4910"}
        claims = jwt.decode(token, public, algorithms=["RS256"], audience="jitsi", issuer="chat")
        assert set(claims) == CLAIMS
        assert claims["sub"] == JAAS_APP
        assert claims["room"] == "vc-abc-123"
        assert claims["context"]["features"] == features
        assert set(claims["context"]) == {"user", "features"}
        check_user(claims, person, moderator)
        check_times(claims, before, 7200)
        assert join["url"] == f"https://8x8.vc/{JAAS_APP}/vc-abc-123?jwt={token}"


def test_expired_and_not_yet_valid_tokens_are_refused(mint_bin):
    base = {"provider": "self-hosted", "domain": "meet.example.org", "app_id": "hie-vc",
            "app_secret": SECRET, "ttl_secs": 3600, "participants": [DOCTOR]}
    old = call(mint_bin, {**base, "issued_at": int(time.time()) - 3 * 3600})["joins"][0]["token"]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(old, SECRET, algorithms=["HS256"], audience="jitsi")
    future = call(mint_bin, {**base, "issued_at": int(time.time()) + 3600})["joins"][0]["token"]
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(future, SECRET, algorithms=["HS256"], audience="jitsi")
    # The SDK's own verifier says why, with the claim that failed.
    err = call(mint_bin, {"verify": {"token": old, "alg": "HS256", "secret": SECRET}}, ok=False)["error"]
    assert (err["kind"], err["location"]) == ("invalid_input", "exp")
    assert "expired" in err["message"]


def test_wrong_keys_are_refused(mint_bin, keys):
    token = call(mint_bin, {"provider": "self-hosted", "domain": "meet.example.org", "app_id": "a",
                            "app_secret": SECRET, "participants": [DOCTOR]})["joins"][0]["token"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-0123456789abcdefgh", algorithms=["HS256"], audience="jitsi")
    private, _ = keys["pkcs8"]
    _, other_public = keys["pkcs1"]
    rs = call(mint_bin, {"provider": "jaas", "app_id": JAAS_APP, "key_id": "k", "private_key_pem": private,
                         "participants": [PATIENT]})["joins"][0]["token"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(rs, other_public, algorithms=["RS256"], audience="jitsi")


@pytest.mark.parametrize("request_, needle", [
    ({"provider": "self-hosted", "domain": "meet.example.org", "app_secret": SECRET}, "app_id"),
    ({"provider": "self-hosted", "domain": "meet.example.org", "app_id": "a"}, "signing key"),
    ({"provider": "self-hosted", "domain": "meet.example.org", "app_id": "a",
      "private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "kid": "k"}, "private key"),
    ({"provider": "self-hosted", "domain": "meet.example.org", "app_id": "a", "private_key_pem": "x"}, "kid"),
    ({"provider": "jaas", "app_id": JAAS_APP}, "API key"),
    ({"provider": "jaas", "app_id": "my-app", "key_id": "k", "private_key_pem": "x"}, "AppID"),
])
def test_missing_settings_are_config_errors(mint_bin, request_, needle):
    err = call(mint_bin, {**request_, "participants": [DOCTOR]}, ok=False)["error"]
    assert err["kind"] == "config"
    assert needle in err["message"]


def test_sdk_verifies_tokens_made_by_pyjwt(mint_bin, keys):
    now = int(time.time())
    claims = {"iss": "hie-vc", "aud": "jitsi", "sub": "meet.example.org", "room": "vc-1", "iat": now,
              "nbf": now - 5, "exp": now + 600,
              "context": {"user": {"id": "p1", "name": "Siti", "moderator": "true"}}}
    hs = jwt.encode(claims, SECRET, algorithm="HS256")
    req = {"token": hs, "alg": "HS256", "secret": SECRET, "audience": "jitsi", "issuer": "hie-vc",
           "subject": "meet.example.org"}
    out = call(mint_bin, {"verify": req})
    assert out["algorithm"] == "HS256"
    assert out["claims"]["room"] == "vc-1"
    assert out["claims"]["context"]["user"]["moderator"] is True
    private, public = keys["pkcs8"]
    rs = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "kid-1"})
    out = call(mint_bin, {"verify": {"token": rs, "alg": "RS256", "public_key_pem": public, "kid": "kid-1"}})
    assert out["kid"] == "kid-1"

    failures = [
        ({**req, "secret": "wrong-secret"}, "signature"),
        ({**req, "audience": "other"}, "aud"),
        ({**req, "issuer": "other"}, "iss"),
        ({**req, "token": jwt.encode({**claims, "exp": now - 60}, SECRET, algorithm="HS256")}, "exp"),
        ({**req, "token": jwt.encode({**claims, "nbf": now + 600}, SECRET, algorithm="HS256")}, "nbf"),
        ({**req, "token": jwt.encode({k: v for k, v in claims.items() if k != "room"}, SECRET, algorithm="HS256")}, "token"),
        ({"token": rs, "alg": "RS256", "public_key_pem": keys["pkcs1"][1]}, "signature"),
        ({"token": rs, "alg": "HS256", "secret": SECRET}, "header.alg"),
    ]
    for bad, location in failures:
        err = call(mint_bin, {"verify": bad}, ok=False)["error"]
        assert (err["kind"], err["location"]) == ("invalid_input", location), err
