"""The page shows the newest incidents and caps each bar's list; the history pages the rest."""

import re
from datetime import timedelta
from urllib.parse import unquote

from django.utils import timezone

from incidents.models import Incident
from statuspage.views import PAGE_INCIDENTS, pages


def resolved(visible, opened):
    return Incident.objects.create(
        action=visible["action"],
        status=Incident.Status.RESOLVED,
        occurrences=5,
        opened_at=opened,
        last_occurrence_at=opened,
        resolved_at=opened + timedelta(minutes=10),
        policy={},
    )


def shown(html: str) -> list[str]:
    return re.findall(r'<li id="incident-([0-9a-f-]+)">', html)


def test_the_page_shows_the_newest_incidents_and_the_history_the_rest(visible, client):
    now = timezone.now()
    made = [resolved(visible, now - timedelta(days=1 + n, minutes=n)) for n in range(25)]
    html = client.get("/status/?lang=en").content.decode()
    assert shown(html) == [str(i.pk) for i in made[:PAGE_INCIDENTS]]
    link = re.search(r'href="(/status/history/\?[^"]+)">Earlier incidents<', html)
    assert link
    history = client.get(link.group(1).replace("&amp;", "&"))
    assert history.status_code == 200
    page = history.content.decode()
    assert shown(page) == [str(i.pk) for i in made[PAGE_INCIDENTS:]]
    assert "Earlier incidents" not in page
    first = client.get("/status/history/?lang=en").content.decode()
    assert shown(first) == shown(html) and "Earlier incidents" in first


def test_a_bar_lists_five_incidents_of_its_day_and_links_to_the_rest(visible, client):
    now = timezone.now()
    day = (now - timedelta(days=3)).replace(hour=15, minute=0)
    for n in range(7):
        resolved(visible, day + timedelta(minutes=20 * n))
    html = client.get("/status/?lang=en").content.decode()
    tip = re.search(r'<span class="tip">(.*?)</span></li>', html.replace("\n", " "))
    assert tip.group(1).count("Unavailable from") == 5
    more = re.search(r'href="([^"]+)">and 2 more<', tip.group(1))
    assert more and "day=" in more.group(1)
    page = client.get(unquote(more.group(1).replace("&amp;", "&"))).content.decode()
    assert len(shown(page)) == 7
    assert client.get("/status/history/?before=not-a-time").status_code == 200
    pages.clear()
    assert ">e mais 2<" in client.get("/status/?lang=pt-br").content.decode()
