"""How tokens (integrations, heartbeat checks) are stored: hashed, never in clear."""

import hashlib


def hash_token(token: str) -> str:
    """Return the stored form of a token.

    Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to
    brute-force that a slow password hash would protect.
    """
    return hashlib.sha256(token.encode()).hexdigest()
