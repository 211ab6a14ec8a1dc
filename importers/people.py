"""People (matched by e-mail or created), their contact methods, and teams."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from importers import specs
from importers.run import Run, free
from notifications.models import Team
from oncall.models import ContactMethod


def people_write(run: Run, people) -> dict:
    User = get_user_model()
    found = {}
    for person in people:
        if not person.email:
            run.report.skip(f"person {person.external_id}: no e-mail, so nobody to match")
            continue
        first, _sep, last = person.full_name.strip().partition(" ")
        names = (first[:150], last[:150])
        user = run.mapped(User, person.external_id)
        if user is None:
            user = User.objects.filter(email__iexact=person.email).order_by("pk").first()
            if user is not None:
                run.report.change(f"person {person.email}: matched the existing user {user}")
                if person.full_name and (user.first_name, user.last_name) != names:
                    user.first_name, user.last_name = names
                    user.save(update_fields=["first_name", "last_name"])
            else:
                user = User(
                    username=free(User, "username", person.email.split("@")[0].lower(), 150),
                    email=person.email,
                    first_name=names[0],
                    last_name=names[1],
                )
                # They are paged, not logged in: a password or SSO comes later, by hand.
                user.set_unusable_password()
                user.save()
                run.report.create(f"person {user.username} <{person.email}>")
            run.remember(user, person.external_id)
        elif person.full_name and (user.first_name, user.last_name) != names:
            user.first_name, user.last_name = names
            user.save(update_fields=["first_name", "last_name"])
            run.report.change(f"person {user.username}: name {person.full_name}")
        found[person.external_id] = user
        for contact in person.contacts:
            _contact(run, user, contact)
    return found


def _contact(run: Run, user, contact: specs.Contact) -> None:
    method = run.mapped(ContactMethod, contact.external_id)
    adopted = method is None
    if adopted:
        # The person may already have this number or address (their own, or another
        # tool's import): take it over rather than page them twice by it.
        method = (
            ContactMethod.objects.filter(user=user, kind=contact.kind, address=contact.address)
            .order_by("pk")
            .first()
        )
    wanted = {
        "user": user,
        "kind": contact.kind,
        "address": contact.address,
        "position": contact.position,
        "delay_minutes": contact.delay_minutes,
        "enabled": contact.enabled,
    }
    if method is not None and all(getattr(method, k) == v for k, v in wanted.items()):
        if adopted:
            run.remember(method, contact.external_id)
            run.report.change(f"contact method of {user}: {contact.kind} taken over as it is")
        return
    created = method is None or method.pk is None
    method = method or ContactMethod()
    for key, value in wanted.items():
        setattr(method, key, value)
    try:
        method.full_clean()
    except ValidationError as error:
        run.report.skip(f"{user}: {contact.kind} {contact.address}: {' '.join(error.messages)}")
        return
    method.save()
    run.remember(method, contact.external_id)
    text = (
        f"contact method of {user}: {contact.kind} "
        f"{method.address if contact.kind == 'email' else method.masked_address} "
        f"after {contact.delay_minutes} min{'' if contact.enabled else ' (disabled)'}"
    )
    (run.report.create if created else run.report.change)(text)


def teams_write(run: Run, teams) -> dict:
    found = {}
    for spec in teams:
        team = run.mapped(Team, spec.external_id)
        if team is None:
            team = Team.objects.filter(name__iexact=spec.name).first()
            if team is not None:
                run.report.change(f"team {spec.name}: matched the existing team {team.slug}")
            else:
                team = Team.objects.create(
                    slug=free(Team, "slug", slugify(spec.name), 100), name=spec.name[:200]
                )
                run.report.create(f"team {team.name} ({team.slug})")
                run.report.note(
                    f"team {team.name} has no channel: add one (admin → Teams) for the tiers "
                    "that page it and for the nobody-on-call fallback"
                )
                if spec.members:
                    run.report.note(
                        f"team {team.name}: {len(spec.members)} member(s) imported as people; "
                        "cxhub teams keep channels, schedules say who is on call"
                    )
            run.remember(team, spec.external_id)
        elif team.name != spec.name[:200]:
            team.name = spec.name[:200]
            team.save(update_fields=["name"])
            run.report.change(f"team {team.slug}: name {team.name}")
        found[spec.external_id] = team
    return found
