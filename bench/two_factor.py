"""The benchmark's staff accounts sign in with two-factor sign-in like everyone else's.

Every generated officer and coordinator has a confirmed authenticator device with one known key
(the RFC 4226 test key), so the load and fault scripts can answer the code page themselves. A
code is accepted once per account: when two sign-ins of one account fall in the same 30-second
window, the second waits for the next code.
"""

from __future__ import annotations

import re
import time

from django_otp.oath import totp

BENCH_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
VERIFY_PATH = "/accounts/two-factor/"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ATTEMPTS = 3


def current_code() -> str:
    return f"{totp(bytes.fromhex(BENCH_TOTP_KEY_HEX)):06d}"


def complete_two_factor(session, base: str, **request_kwargs) -> bool:
    """After the password form: if Harbor asks this account for a code, give it. ``session`` is
    a requests session or a locust client (``request_kwargs`` may carry locust's ``name``).

    The code page sends an account that needs no code on (a redirect); it shows its form only
    to one that does.
    """
    for _ in range(ATTEMPTS):
        page = session.get(f"{base}{VERIFY_PATH}", allow_redirects=False, **request_kwargs)
        if page.status_code == 302:
            return True
        match = CSRF.search(page.text)
        if page.status_code != 200 or match is None:
            return False
        response = session.post(
            f"{base}{VERIFY_PATH}",
            data={"otp_token": current_code(), "csrfmiddlewaretoken": match.group(1)},
            allow_redirects=False,
            **request_kwargs,
        )
        if response.status_code == 302:
            return True
        time.sleep(30 - time.time() % 30 + 1)  # this window's code was used: wait for the next
    return False


def signed_in_session(base: str, username: str, password: str):
    """A ``requests`` session signed in over HTTP as a person would: the login form, then the
    code page where Harbor asks for one. Raises ``RuntimeError`` if either step is refused."""
    import requests

    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=30)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
        },
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or not complete_two_factor(session, base, timeout=30):
        raise RuntimeError(f"{username} could not sign in ({response.status_code})")
    return session
