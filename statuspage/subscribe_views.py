"""Subscribe, confirm and unsubscribe: public pages, no login, no cookie needed.

The status page is cached and public, so its subscribe form carries no CSRF
token: the form only ever sends a confirmation e-mail (double opt-in), and it
is throttled. Unsubscribing accepts one POST without cookie or token (RFC 8058),
the signed link being the credential.
"""

from django.conf import settings
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cxhub.ratelimit import client_ip
from statuspage.forms import ManageForm, SubscribeForm, zone_choices
from statuspage.subscribers import (
    confirm_request,
    manage_url,
    subscribe_request,
    subscriber_of_manage_token,
    subscriber_of_token,
    subscriber_unsubscribe,
    subscription_change,
    subscription_confirm,
    unsubscribe_token,
)


def _language(request) -> str:
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    language = asked if asked in codes else translation.get_language()
    return language if language in codes else settings.LANGUAGE_CODE


def _render(request, template, context, *, status=200, language=None):
    language = language or _language(request)
    translation.activate(language)
    response = TemplateResponse(request, template, {"language": language, **context}, status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


@csrf_exempt
@require_POST
def subscribe(request):
    """Take a subscribe request; the answer is the same whatever the address's state."""
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _render(
            request,
            "statuspage/subscribe.html",
            {
                "form": form,
                "zones": zone_choices(),
                "bank_zone": settings.TIME_ZONE,
                "subscribe_services": [
                    {"pk": s.pk, "name": s.name} for s in form.fields["services"].queryset
                ],
            },
            status=400,
        )
    data = form.cleaned_data
    services = [s.pk for s in data["services"]] or None
    if not subscribe_request(
        email=data["email"],
        language=data["language"],
        service_ids=services,
        zone=data["time_zone"],
        client=client_ip(request),
    ):
        return _render(request, "statuspage/subscribe.html", {"throttled": True}, status=429)
    return _render(request, "statuspage/subscribe.html", {"sent": True})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """Show the confirmation button (GET: a link scanner confirms nothing); POST confirms."""
    signed = confirm_request(token)
    language = signed["l"] if signed else None
    if request.method == "GET":
        return _render(
            request,
            "statuspage/confirm.html",
            {"valid": signed is not None, "token": token},
            status=200 if signed else 400,
            language=language,
        )
    subscriber = subscription_confirm(token)
    return _render(
        request,
        "statuspage/confirm.html",
        {
            "valid": subscriber is not None,
            "done": subscriber is not None,
            "manage": manage_url(subscriber) if subscriber else "",
        },
        status=200 if subscriber else 400,
        language=language,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a button; POST (a mail client's one-click, no cookie) unsubscribes."""
    subscriber = subscriber_of_token(token)
    if subscriber is None:
        raise Http404
    if request.method == "POST":
        subscriber_unsubscribe(token)
        return _render(
            request, "statuspage/unsubscribe.html", {"done": True}, language=subscriber.language
        )
    return _render(
        request,
        "statuspage/unsubscribe.html",
        {"token": token, "done": subscriber.unsubscribed_at is not None},
        language=subscriber.language,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def manage(request, token):
    """Show a subscription (services, language, time zone) and change it, or unsubscribe.

    The signed link of every notice e-mail is the credential, as for unsubscribing:
    no login, no cookie.
    """
    subscriber = subscriber_of_manage_token(token)
    if subscriber is None:
        raise Http404
    saved = False
    if request.method == "POST" and subscriber.active:
        form = ManageForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            subscriber = subscription_change(
                subscriber,
                language=data["language"],
                zone=data["time_zone"],
                service_ids=[s.pk for s in data["services"]] or None,
            )
            saved = True
    else:
        form = ManageForm()
    chosen = set(subscriber.services.values_list("pk", flat=True))
    return _render(
        request,
        "statuspage/manage.html",
        {
            "subscriber": subscriber,
            "form": form,
            "saved": saved,
            "zones": zone_choices(subscriber.time_zone),
            "zone": subscriber.time_zone or settings.TIME_ZONE,
            "services": [
                {"pk": s.pk, "name": s.name, "chosen": s.pk in chosen}
                for s in form.fields["services"].queryset
            ],
            "unsubscribe_token": unsubscribe_token(subscriber),
        },
        status=400 if form.is_bound and not saved else 200,
        language=subscriber.language,
    )
