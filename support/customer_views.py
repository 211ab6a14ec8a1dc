"""The customer lookup page: answer a customer's call from one page."""

from django.contrib.auth.decorators import login_required, permission_required
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from support import customers
from support.roles import VIEW_CUSTOMERS


@require_GET
@login_required
@permission_required(VIEW_CUSTOMERS, raise_exception=True)
def customer_lookup(request):
    """Show one customer's services, devices (token tails) and every push cxhub sent them."""
    q = request.GET.get("q", "").strip()[:100]
    customer = customers.customer_find(q) if q else None
    return TemplateResponse(
        request,
        "support/customer_lookup.html",
        {
            "q": q,
            "customer": customer,
            "stories": customers.customer_story(customer, now=timezone.now()) if customer else [],
            "days": customers.SERVICE_INCIDENTS_DAYS,
        },
    )
