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
from statuspage.forms import SubscribeForm
from statuspage.subscribers import (
    confirm_request,
    subscribe_request,
    subscriber_of_token,
    subscriber_unsubscribe,
    subscription_confirm,
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
        return _render(request, "statuspage/subscribe.html", {"form": form}, status=400)
    data = form.cleaned_data
    services = [s.pk for s in data["services"]] or None
    if not subscribe_request(
        email=data["email"],
        language=data["language"],
        service_ids=services,
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
        {"valid": subscriber is not None, "done": subscriber is not None},
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
