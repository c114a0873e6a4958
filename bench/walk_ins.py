"""A desk officer logging a walk-in over HTTP, as the paced bursts do (``bench.run``'s top-up for
the text-message latency, ``bench.chaos``'s burst through faults)."""

from __future__ import annotations

from .two_factor import CSRF


def post_walk_in(session, base_url: str, *, first_name: str, number: int) -> bool:
    """Open the walk-in form and send it with ``session`` (a signed-in requests session); True
    when Harbor logged the walk-in (it redirects to the walk-in's page)."""
    form = session.get(f"{base_url}/intake/new/", timeout=30)
    response = session.post(
        f"{base_url}/intake/new/",
        data={
            "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
            "first_name": first_name,
            "approximate_age": str(20 + number % 50),
            "preferred_language": "en",
            "warrant_check": "none",
            "person_choice": "new",
        },
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code == 302
