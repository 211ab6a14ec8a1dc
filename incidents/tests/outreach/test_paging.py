"""Triage pages link to a prefilled new action."""

from incidents.outreach.paging import triage_create_url


def test_triage_create_action_link_is_url_encoded():
    url = triage_create_url("login", "5&x=1 #")
    assert url.endswith("/admin/actions/action/add/?service=login&code=5%26x%3D1+%23")
