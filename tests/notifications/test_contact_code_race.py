"""Guessing a verification code many times at once: each guess is counted, and after five
wrong ones even the right code is refused."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from notifications.models import ContactVerification, Notification
from notifications.verification import (
    MAX_WRONG_CODES,
    VerificationRefused,
    contact_code_check,
    contact_code_send,
)

from ..factories import user_with_role
from ..paging.conftest import run_at_once


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_are_counted_one_by_one(department, monkeypatch):
    monkeypatch.setattr("notifications.tasks.send_notification.delay", lambda pk: None)
    user = user_with_role(Role.VOLUNTEER, department, username="guessed", unverified=True)
    contact_code_send(user=user, department=department, channel="email", value=user.email)
    body = Notification.objects.get(kind="verify_contact").body
    code = re.search(r"\b(\d{6})\b", body).group(1)
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 13)]

    results = run_at_once(
        [
            lambda guess=guess: contact_code_check(user=user, channel="email", value=user.email, code=guess)
            for guess in wrong
        ]
    )

    assert all(isinstance(result, VerificationRefused) for result in results)
    messages = [result.message for result in results]
    assert sum("not right" in message for message in messages) == MAX_WRONG_CODES
    assert (
        sum(message == "Too many wrong codes. Ask for a new code." for message in messages)
        == 12 - MAX_WRONG_CODES
    )
    assert ContactVerification.objects.get(user=user).attempts == MAX_WRONG_CODES
    with pytest.raises(VerificationRefused, match="Too many wrong codes"):
        contact_code_check(user=user, channel="email", value=user.email, code=code)
