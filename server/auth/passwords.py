"""Password policy and hashing (scrypt), used everywhere a password is set."""
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def password_problem(username: str, password: str) -> str | None:
    """Return why a password is refused, or None when it is acceptable."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return "weak_password"
    if password.strip().lower() == (username or "").strip().lower():
        return "weak_password"
    return None


def check_policy(username: str, password: str, field: str = "password") -> None:
    """Raise InvalidInput when the password breaks the policy."""
    problem = password_problem(username, password)
    if problem:
        raise InvalidInput(problem, errors={field: ["weak_password"]})


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of the password."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; a missing hash still costs a hash, against timing probes."""
    if not password_hash:
        hash_password(password)
        return False
    return check_password_hash(password_hash, password)


def one_time_password() -> str:
    """Return a fresh random password that is easy to read aloud or type."""
    return "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(12))
