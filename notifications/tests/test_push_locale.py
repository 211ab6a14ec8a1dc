"""Push texts per language: that language's service name and date form."""

from datetime import UTC, datetime

import pytest

from actions.models import Service, ServiceName
from actions.selectors import service_names
from notifications.messages import LocalTime, PerLocale, text_for

AT = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)  # 05:05 in São Paulo
TEXTS = {
    "outage": {
        "default": "Infelizmente {service} está indisponível desde {started_at}",
        "en": "{service} is unavailable since {started_at}",
    }
}


def test_each_language_writes_the_date_its_own_way():
    at = LocalTime(AT)
    assert at.for_locale("pt-BR") == "01/12/2026 05:05"
    assert at.for_locale("en") == "Dec 1, 2026, 05:05"
    assert at.for_locale("es-AR") == "01/12/2026 05:05"
    assert str(at) == "01/12/2026 05:05"  # the action's own (pt-BR) texts


def test_a_service_name_follows_the_customers_language():
    name = PerLocale("Login no app", {"en": "App login"})
    variables = {"service": name, "started_at": LocalTime(AT)}
    assert text_for(TEXTS, "outage", "en-US", variables) == (
        "App login is unavailable since Dec 1, 2026, 05:05"
    )
    assert text_for(TEXTS, "outage", "pt-BR", variables) == (
        "Infelizmente Login no app está indisponível desde 01/12/2026 05:05"
    )


@pytest.mark.django_db
def test_service_names_join_every_service_per_language():
    login = Service.objects.create(slug="login", name="Login no app")
    pix = Service.objects.create(slug="pix", name="Pix")
    ServiceName.objects.create(service=login, locale="en", name="App login")
    names = service_names([login, pix], default="-")
    assert names.for_locale("en") == "App login, Pix"
    assert names.for_locale("pt-BR") == "Login no app, Pix"
    assert service_names([], default="Action name").for_locale("en") == "Action name"


@pytest.mark.django_db
def test_an_english_customer_reads_the_english_service_name_and_date(scenario):
    from actions.models import PushTemplate
    from conftest import post_original
    from notifications import providers
    from notifications.models import Customer
    from notifications.tests.helpers import send_pending

    ServiceName.objects.create(service=scenario["login"], locale="en", name="App login")
    PushTemplate.objects.create(
        action=scenario["action"],
        purpose="outage",
        locale="en",
        text="{service} is unavailable since {started_at}",
    )
    Customer.objects.filter(external_id="c2").update(locale="en")
    post_original(5)
    send_pending("push")
    by_token = {t: body for batch in providers.outbox for t, body in batch["bodies"].items()}
    english = by_token["tok-c2"]
    assert english.startswith("App login is unavailable since ")
    assert "/" not in english.removeprefix("App login is unavailable since ")  # Dec 1, 2026
    assert (
        by_token["tok-c1-a"] == "Infelizmente nosso app está indisponível, avisaremos quando voltar"
    )
