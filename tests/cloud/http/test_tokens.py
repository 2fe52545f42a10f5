"""Access tokens (billing-anchors §8, cases 38-41): only our HS256 tokens, unexpired, for us."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from promptready.cloud.auth import (
    AUDIENCE,
    ISSUER,
    LEEWAY_S,
    AuthError,
    AuthFailure,
    SigningKeys,
    TokenService,
    hash_device_secret,
    key_id,
    new_device_secret,
    secret_matches,
)

SECRET = b"s" * 40
OTHER = b"o" * 40
DEVICE = uuid.UUID("8b1c6f2e-43a5-4c35-9d0e-51a7d6b2f3c4")
PUBLIC_KEY = b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA2l4J1Lj1wQH0hV1xxJZ0 test@example"
JWK_TEXT = json.dumps({"kty": "oct", "k": base64.urlsafe_b64encode(SECRET).decode()}).encode()


def service(*previous: bytes, current: bytes = SECRET) -> TokenService:
    return TokenService(SigningKeys(current, previous))


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": str(DEVICE),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], key: bytes = SECRET, kid: str | None = None) -> str:
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid or key_id(key)})


def forged(payload: dict[str, Any], key: bytes, kid: str) -> str:
    """HS256 by hand with any key (PyJWT itself refuses to sign with a public key)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(token: str, tokens: TokenService | None = None) -> AuthFailure:
    with pytest.raises(AuthError) as caught:
        (tokens or service()).verify(token)
    assert str(DEVICE) not in str(caught.value)
    return caught.value.failure


def test_a_token_it_issued_names_its_device() -> None:
    tokens = service()
    assert tokens.verify(tokens.issue(DEVICE)) == DEVICE


def test_issued_tokens_carry_the_current_kid_and_expire_in_an_hour() -> None:
    token = service().issue(DEVICE)
    assert jwt.get_unverified_header(token)["kid"] == key_id(SECRET)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert payload["exp"] - payload["iat"] == 3600


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key_id(SECRET)}).encode())
    body = _b64(json.dumps(claims(), default=lambda d: int(d.timestamp())).encode())
    assert refused(f"{header}.{body}.") is AuthFailure.INVALID


def test_a_forged_signature_with_the_right_key_is_accepted() -> None:
    # The forging helper itself is sound: the refusals above are about the keys.
    assert service().verify(forged(claims(), SECRET, key_id(SECRET))) == DEVICE


def test_hs256_signed_with_a_public_key_is_refused() -> None:
    assert refused(forged(claims(), PUBLIC_KEY, key_id(SECRET))) is AuthFailure.INVALID


def test_hs256_signed_with_jwk_text_is_refused() -> None:
    assert refused(forged(claims(), JWK_TEXT, key_id(SECRET))) is AuthFailure.INVALID


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert refused(signed(claims(), OTHER, kid=key_id(SECRET))) is AuthFailure.INVALID


def test_a_tampered_payload_is_refused() -> None:
    header, _, rest = service().issue(DEVICE).partition(".")
    _, _, signature = rest.partition(".")
    other = dict(claims(), sub=str(uuid.uuid4()))
    body = _b64(json.dumps(other, default=lambda d: int(d.timestamp())).encode())
    assert refused(f"{header}.{body}.{signature}") is AuthFailure.INVALID


@pytest.mark.parametrize("field", ["aud", "iss"])
def test_a_wrong_audience_or_issuer_is_refused(field: str) -> None:
    assert refused(signed(claims(**{field: "someone-else"}))) is AuthFailure.INVALID


@pytest.mark.parametrize("missing", ["exp", "iat", "nbf", "sub", "aud", "iss"])
def test_a_missing_required_claim_is_refused(missing: str) -> None:
    assert refused(signed(claims(**{missing: None}))) is AuthFailure.INVALID


def test_a_subject_that_is_not_a_device_id_is_refused() -> None:
    assert refused(signed(claims(sub="admin"))) is AuthFailure.INVALID


def test_an_unknown_kid_is_refused() -> None:
    assert refused(signed(claims(), kid="not-a-key")) is AuthFailure.INVALID


def test_a_token_without_kid_is_refused() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert refused(token) is AuthFailure.INVALID


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é.é", "x" * 5000])
def test_garbage_is_refused_as_invalid(garbage: str) -> None:
    assert refused(garbage) is AuthFailure.INVALID


def test_an_expired_token_says_expired() -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token = signed(claims(iat=past, nbf=past, exp=past + timedelta(hours=1)))
    assert refused(token) is AuthFailure.EXPIRED


def test_a_token_expired_within_the_leeway_is_accepted() -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = signed(claims(iat=past, nbf=past, exp=datetime.now(UTC) - timedelta(seconds=5)))
    assert service().verify(token) == DEVICE


@pytest.mark.parametrize("field", ["iat", "nbf"])
def test_a_token_from_the_future_beyond_the_leeway_is_refused(field: str) -> None:
    future = datetime.now(UTC) + timedelta(seconds=LEEWAY_S + 60)
    assert refused(signed(claims(**{field: future}))) is AuthFailure.INVALID


@pytest.mark.parametrize("field", ["iat", "nbf"])
def test_clock_skew_within_the_leeway_is_accepted(field: str) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=LEEWAY_S // 2)
    assert service().verify(signed(claims(**{field: soon}))) == DEVICE


def test_after_rotation_old_tokens_stay_valid_and_new_ones_use_the_new_key() -> None:
    old_token = service().issue(DEVICE)
    rotated = service(SECRET, current=OTHER)
    assert rotated.verify(old_token) == DEVICE
    new_token = rotated.issue(DEVICE)
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(OTHER)


def test_once_the_old_key_retires_its_tokens_are_refused() -> None:
    old_token = service().issue(DEVICE)
    assert refused(old_token, service(current=OTHER)) is AuthFailure.INVALID


def test_a_token_verified_once_still_expires() -> None:
    tokens = TokenService(SigningKeys(SECRET), lifetime=timedelta(seconds=1), leeway_s=0)
    token = tokens.issue(DEVICE)
    assert tokens.verify(token) == DEVICE
    time.sleep(2.1)  # exp has whole-second resolution
    assert refused(token, tokens) is AuthFailure.EXPIRED


def test_a_verified_token_does_not_vouch_for_a_tampered_copy() -> None:
    tokens = service()
    token = tokens.issue(DEVICE)
    assert tokens.verify(token) == DEVICE
    assert refused(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], tokens) is (
        AuthFailure.INVALID
    )


def test_device_secrets_are_random_and_checked_against_their_hash() -> None:
    first, second = new_device_secret(), new_device_secret()
    assert first != second and len(first) >= 40
    stored = hash_device_secret(first)
    assert first.encode() not in stored
    assert secret_matches(first, stored)
    assert not secret_matches(second, stored)
