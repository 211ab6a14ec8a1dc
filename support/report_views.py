"""The reports page: response times and volumes for a period, as charts, tables and CSV."""

import csv
from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from support import reports
from support.report_charts import column_chart, hbar_chart
from support.roles import VIEW_INCIDENTS
from support.templatetags.support_tags import duration

EXPORTS = ("actions", "teams", "services", "sent")


class PeriodForm(forms.Form):
    preset = forms.ChoiceField(
        required=False, label=_("Period"), choices=[("", _("Custom")), *reports.PRESETS.items()]
    )
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(required=False, label=_("To"), widget=forms.DateInput({"type": "date"}))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The period must end on or after its first day."))
        elif since and until and (until - since).days >= reports.MAX_DAYS:
            self.add_error(
                "until", _("A period covers at most %(n)s days.") % {"n": reports.MAX_DAYS}
            )
        return data

    def period(self, *, today) -> reports.Period:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("since") and not data.get("preset"):
            return reports.Period(data["since"], data.get("until") or today)
        return reports.period_of(data.get("preset") or "7d", today=today)


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


@require_GET
@login_required
@permission_required(VIEW_INCIDENTS, raise_exception=True)
def report_page(request):
    """Show MTTA/MTTR per action and team, incidents per service per week, what was sent."""
    params = request.GET.copy()
    if not params:
        # The last 7 days include today, so the page opens on what just happened.
        params["preset"] = "7d"
    form = PeriodForm(params)
    period = form.period(today=timezone.localdate())
    figures = reports.report(period)
    export = request.GET.get("export")
    if export in EXPORTS:
        return _csv(export, figures, period)
    weeks = [f"{w:%d/%m}" for w in figures["per_service"]["weeks"]]
    sent = figures["sent"]
    charts = {
        "mtta_team": hbar_chart(
            [(r.label, _seconds(r.mtta), duration(r.mtta)) for r in figures["by_team"]]
        ),
        "mttr_team": hbar_chart(
            [(r.label, _seconds(r.mttr), duration(r.mttr)) for r in figures["by_team"]]
        ),
        "mtta_action": hbar_chart(
            [(r.label, _seconds(r.mtta), duration(r.mtta)) for r in figures["by_action"]]
        ),
        "mttr_action": hbar_chart(
            [(r.label, _seconds(r.mttr), duration(r.mttr)) for r in figures["by_action"]]
        ),
        "per_service": column_chart(weeks, figures["per_service"]["services"]),
        "sent": column_chart(
            weeks,
            {
                str(_("pages")): sent["pages"],
                str(_("pushes")): sent["pushes"],
                str(_("all-clears")): sent["all_clears"],
            },
        ),
    }
    query = params.copy()
    query.pop("export", None)
    return TemplateResponse(
        request,
        "support/reports.html",
        {
            "form": form,
            "period": period,
            "figures": figures,
            "charts": charts,
            "query": query.urlencode(),
            "presets": reports.PRESETS,
            "current_preset": params.get("preset", ""),
        },
    )


def _csv(export: str, figures: dict, period: reports.Period) -> HttpResponse:
    """Write one table of the page as CSV (English headers: a machine format)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"cxhub-{export}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    if export in ("actions", "teams"):
        writer.writerow(
            [export[:-1], "incidents", "acknowledged", "resolved", "mtta_seconds", "mttr_seconds"]
        )
        for r in figures["by_action" if export == "actions" else "by_team"]:
            writer.writerow(
                [
                    r.label,
                    r.incidents,
                    r.acknowledged,
                    r.resolved,
                    "" if r.mtta is None else round(r.mtta.total_seconds()),
                    "" if r.mttr is None else round(r.mttr.total_seconds()),
                ]
            )
    elif export == "services":
        writer.writerow(["week", "service", "incidents"])
        per = figures["per_service"]
        for service, counts in per["services"].items():
            for week, n in zip(per["weeks"], counts, strict=True):
                writer.writerow([week.isoformat(), service, n])
    else:
        sent = figures["sent"]
        writer.writerow(["week", "pages_sent", "pushes_sent", "all_clears_sent"])
        for row in zip(
            sent["weeks"], sent["pages"], sent["pushes"], sent["all_clears"], strict=True
        ):
            writer.writerow([row[0].isoformat(), *row[1:]])
    return response
