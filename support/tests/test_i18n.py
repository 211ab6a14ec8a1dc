"""Both languages: compiled messages match their sources and every page speaks pt-BR."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from support.models import Preference

PO = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext is not installed (.ci/run does)")
def test_committed_messages_are_complete_and_compiled(tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    assert (tmp_path / "django.mo").read_bytes() == PO.with_suffix(".mo").read_bytes(), (
        "Run `python manage.py compilemessages` and commit locale/."
    )


def test_system_messages_and_labels_translate():
    with translation.override("pt-br"):
        from incidents.models import Incident
        from incidents.operations import OPERATIONS

        assert str(Incident.Status.ACKNOWLEDGED.label) == "Reconhecido"
        assert str(OPERATIONS["resolve"].label) == "Resolver"


def test_admin_and_dry_run_in_portuguese(scenario, admin_client):
    headers = {"HTTP_ACCEPT_LANGUAGE": "pt-BR"}
    changelist = admin_client.get(reverse("admin:actions_action_changelist"), **headers)
    html = changelist.content.decode()
    assert "Comunicação" in html and "push em 5" in html and "Simulação" in html
    dry_run = admin_client.get(
        reverse("admin:actions_action_dry_run", args=[scenario["action"].pk]), **headers
    )
    assert "Nada é gravado nem enviado" in dry_run.content.decode()
    assert (
        "Nothing is written"
        in admin_client.get(
            reverse("admin:actions_action_dry_run", args=[scenario["action"].pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
    )


def test_language_switcher_remembers_the_choice_for_the_person(client, support_user):
    client.force_login(support_user)
    response = client.post(
        reverse("support:language"), {"language": "pt-br", "next": reverse("support:incidents")}
    )
    assert response.status_code == 302
    html = client.get(reverse("support:incidents"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ontem e hoje" in html
    assert Preference.objects.get(user=support_user).language == "pt-br"
    # Another browser (no language cookie, English Accept-Language) follows the saved choice.
    other = Client()
    other.force_login(support_user)
    assert "Ontem e hoje" in other.get("/support/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The switcher's cookie in a browser beats the saved preference.
    other.cookies["django_language"] = "en"
    assert "Yesterday and today" in other.get("/support/").content.decode()


def test_without_a_preference_the_browser_decides(client, support_user):
    client.force_login(support_user)
    pt = client.get("/support/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Ontem e hoje" in pt
    assert (
        "Yesterday and today" in client.get("/support/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
