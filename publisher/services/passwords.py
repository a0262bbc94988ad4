"""The password rule for every password set through the UI, the CLI or a service: at least
``MIN_LENGTH`` characters and not guessable by zxcvbn's estimate (common passwords, names,
dates, keyboard walks, the person's own email or name), with a stricter bar for admins.

Existing passwords are not re-checked at login; the rule applies when a password is set.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from publisher.models import Role

MIN_LENGTH = 12
MAX_LENGTH = 256
#: zxcvbn scores 0-4; 3 is "safely unguessable" for an online attack, 4 for an offline one.
MIN_SCORE = 3
MIN_SCORE_ADMIN = 4
#: Words of this installation an attacker tries first.
HOUSE_WORDS = ("warta", "diskominfo", "dinsos", "pemda", "kabupaten", "rahasia", "sandi")


def problem(password: str, *, role: str = Role.OPERATOR,
            personal: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """``None`` if the password is acceptable, else (Indonesian, English) reasons."""
    if len(password) < MIN_LENGTH:
        return (f"Kata sandi minimal {MIN_LENGTH} karakter.",
                f"Passwords need at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        return (f"Kata sandi paling banyak {MAX_LENGTH} karakter.",
                f"Passwords have at most {MAX_LENGTH} characters.")
    inputs = [p for p in personal if p] + [part for p in personal if p
                                           for part in p.replace("@", " ").replace(".", " ")
                                           .split()] + list(HOUSE_WORDS)
    result = zxcvbn(password[:100], user_inputs=inputs)
    needed = MIN_SCORE_ADMIN if role == Role.ADMIN else MIN_SCORE
    if result["score"] < needed:
        extra_id = " Admin memerlukan kata sandi yang lebih kuat." if role == Role.ADMIN else ""
        extra_en = " Admins need a stronger one." if role == Role.ADMIN else ""
        return ("Kata sandi terlalu mudah ditebak (kata umum, nama, tanggal atau pola papan "
                "ketik). Pakai beberapa kata acak dengan angka atau tanda baca." + extra_id,
                "The password is too easy to guess (a common word, name, date or keyboard "
                "pattern). Use several random words with digits or punctuation." + extra_en)
    return None
