"""Sandbox Google OAuth2 for service accounts: the JWT-bearer grant and bearer-token checks.

The sandbox never ships a key: ``SandboxServiceAccount.generate()`` makes an RSA key at runtime and hands out a
service-account info dict whose ``token_uri`` points at the emulator, so the *real* google-auth library signs a
JWT assertion, posts it to the emulator, and uses the access token it gets back exactly as it would with Google.

HTTP-agnostic on purpose: the Drive emulator routes ``POST /token`` to :meth:`TokenAuthority.exchange` and calls
:meth:`TokenAuthority.authenticate` on every API request.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DRIVE_SCOPE_PREFIX = "https://www.googleapis.com/auth/drive"
MAX_ASSERTION_LIFETIME = 3600  # Google: "Token must be a short-lived token (60 minutes)"
CLOCK_SKEW = 300
# google-auth always signs for Google's endpoint as the audience, whatever token_uri says; Google accepts these.
GOOGLE_TOKEN_AUDIENCES = ("https://oauth2.googleapis.com/token", "https://www.googleapis.com/oauth2/v4/token")

# Google's 401 bodies, word for word (minus the doc links), so a client's error parsing is exercised for real.
_MISSING_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential."
)
_INVALID_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential."
)


@dataclass(frozen=True)
class SandboxServiceAccount:
    """A service account whose private key exists only in this process."""

    client_email: str
    client_id: str
    private_key_id: str
    private_key_pem: str = field(repr=False)
    public_key: Any = field(repr=False)

    @classmethod
    def generate(cls, *, name: str = "mailroom-sandbox", project: str = "mailroom-sandbox") -> "SandboxServiceAccount":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return cls(
            client_email=f"{name}@{project}.iam.gserviceaccount.com",
            client_id=str(secrets.randbelow(10**20)).zfill(21),
            private_key_id=secrets.token_hex(20),
            private_key_pem=pem,
            public_key=key.public_key(),
        )

    def info(self, token_uri: str) -> dict[str, str]:
        """The JSON a person would download from the Cloud console, with the sandbox's token endpoint."""
        project = self.client_email.split("@", 1)[1].split(".", 1)[0]
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "",
            "universe_domain": "googleapis.com",
        }


@dataclass(frozen=True)
class OAuthResult:
    """What the token endpoint answers: an HTTP status and Google's JSON body."""

    status: int
    body: dict[str, Any]


class AuthFailure(Exception):
    """An API request without a usable bearer token; ``body``/``headers`` are Google's 401 answer."""

    def __init__(self, *, missing: bool) -> None:
        super().__init__("missing credentials" if missing else "invalid credentials")
        message = _MISSING_MESSAGE if missing else _INVALID_MESSAGE
        reason = "required" if missing else "authError"
        self.status = 401
        self.body = {
            "error": {
                "code": 401,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "global",
                        "reason": reason,
                        "location": "Authorization",
                        "locationType": "header",
                    }
                ],
                "status": "UNAUTHENTICATED",
            }
        }
        self.headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if not missing:
            self.headers["WWW-Authenticate"] += ', error="invalid_token"'


class TokenAuthority:
    """Verifies JWT-bearer assertions against registered accounts and tracks the access tokens it issued."""

    def __init__(
        self,
        token_uri: str,
        *,
        token_lifetime: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_uri = token_uri
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._accounts: dict[str, SandboxServiceAccount] = {}  # by private_key_id (the JWT's "kid")
        self._tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self._lock = threading.Lock()
        self.tokens_issued = 0
        self.grants_rejected = 0

    def register(self, account: SandboxServiceAccount) -> None:
        self._accounts[account.private_key_id] = account

    def issue_token(self, *, lifetime: float | None = None) -> str:
        """Mint a token directly (tests use a negative lifetime to get an already-expired one)."""
        token = "ya29.sandbox-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + (self.token_lifetime if lifetime is None else lifetime)
            self.tokens_issued += 1
        return token

    def expire_all_tokens(self) -> None:
        """Make every issued token invalid now, as if each had reached its expiry (clients must refresh)."""
        with self._lock:
            now = self._clock()
            for token in self._tokens:
                self._tokens[token] = now - 1

    def exchange(self, form_body: bytes) -> OAuthResult:
        """The token endpoint: ``grant_type=jwt-bearer&assertion=<JWT>`` -> access token, or Google's 400."""
        form = {key: values[0] for key, values in parse_qs(form_body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return self._reject("unsupported_grant_type", "Invalid grant_type.")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return self._reject("invalid_grant", "Invalid JWT.")
        account = self._accounts.get(str(header.get("kid", "")))
        if account is None:
            return self._reject("invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                audience=[self.token_uri, *GOOGLE_TOKEN_AUDIENCES],
                issuer=account.client_email,
                leeway=CLOCK_SKEW,
                options={"require": ["iat", "exp", "iss", "aud"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            return self._reject("invalid_grant", "Invalid JWT Signature.")
        except jwt.PyJWTError:
            return self._reject("invalid_grant", "Invalid JWT: claims do not match this service account.")
        now = self._clock()
        iat, exp = float(claims["iat"]), float(claims["exp"])
        if exp - iat > MAX_ASSERTION_LIFETIME or not (iat - CLOCK_SKEW <= now <= exp + CLOCK_SKEW):
            return self._reject(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
            )
        scopes = str(claims.get("scope", "")).split()
        if not any(scope.startswith(DRIVE_SCOPE_PREFIX) for scope in scopes):
            return self._reject("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = self.issue_token()
        return OAuthResult(200, {"access_token": token, "expires_in": int(self.token_lifetime), "token_type": "Bearer"})

    def authenticate(self, authorization: str | None) -> None:
        """Raise :class:`AuthFailure` unless the header carries a live token this authority issued."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthFailure(missing=True)
        token = authorization[len("Bearer ") :].strip()
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry <= self._clock():
            raise AuthFailure(missing=False)

    def _reject(self, error: str, description: str) -> OAuthResult:
        with self._lock:
            self.grants_rejected += 1
        return OAuthResult(400, {"error": error, "error_description": description})
