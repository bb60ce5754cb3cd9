"""Who sends: the sender hierarchy of SPEC §5, with its trace steps.

For a document: the profile of the template the relation's language code assigns to
the document type, else the administration's profile, else the sending user's
personal profile, else the system profile. For reports, backups and hand-written
mail: personal, administration, system. A missing system profile is a
:class:`ConfigError`; any other dangling reference is a warning in the trace and
that level is skipped. The chosen profile's From address must be valid, else a
:class:`ConfigError` (never silently another sender).

:class:`SenderResolver` caches the outcome per (administration, language code,
document type, user), and per (object, user, administration), for one
configuration snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from mailing.addresses import check_address
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError, ConfigError
from mailing.resolve.results import Level, SenderChoice, TraceStep
from store.records import DocType, Profile, Relation


@dataclass
class SenderOutcome:
    """A chosen sender, with the steps and warnings that chose it and the template found."""

    choice: SenderChoice
    steps: list[TraceStep]
    warnings: list[str]
    template: str | None
    profile: Profile


def system_profile(cfg: ConfigSnapshot) -> Profile:
    """The system profile, which must always exist; ConfigError when it does not."""
    code = cfg.system.profile
    if not code:
        raise ConfigError(
            "No system profile is set. The system profile must always exist, so that "
            "every message has a sender.",
            field="system profile",
            value=None,
            fix="create an e-mail profile and choose it as the system profile in the "
            "system settings.",
        )
    profile = cfg.profiles.get(code)
    if profile is None:
        raise ConfigError(
            f"The system profile {code!r} does not exist. The system profile must always "
            "exist, so that every message has a sender.",
            field="system profile",
            value=code,
            fix="create that profile, or choose an existing one as the system profile.",
        )
    return profile


class SenderResolver:
    """The sender of documents and of reports, backups and hand-written mail, cached."""

    def __init__(self, cfg: ConfigSnapshot) -> None:
        self.cfg = cfg
        self.system_profile = system_profile(cfg)
        self._senders: dict[tuple[str, str | None, str, str], SenderOutcome] = {}
        self._object_senders: dict[tuple[str, str, str | None], SenderOutcome] = {}
        self._from: dict[str, str] = {}

    def document_sender(
        self, admin: str, relation: Relation | None, doctype: str, user: str
    ) -> SenderOutcome:
        language = relation.language if relation is not None else None
        key = (admin, language, doctype, user)
        cached = self._senders.get(key)
        if cached is None:
            cached = self._document_sender(admin, relation, doctype, user)
            self._senders[key] = cached
        return cached

    def object_sender(self, obj: str, user: str, admin: str | None) -> SenderOutcome:
        key = (obj, user, admin)
        cached = self._object_senders.get(key)
        if cached is None:
            steps: list[TraceStep] = [
                TraceStep(
                    "sender.template",
                    f"template for {obj}",
                    "not used: reports and hand-written mail start at the personal level",
                )
            ]
            warnings: list[str] = []
            profile, level = self._fallback_levels(
                ("personal", "administration"), admin, user, steps, warnings
            )
            cached = self._choice(profile, level, steps, warnings, None)
            self._object_senders[key] = cached
        return cached

    # ------------------------------------------------------------ the levels

    def _document_sender(
        self, admin: str, relation: Relation | None, doctype: str, user: str
    ) -> SenderOutcome:
        steps: list[TraceStep] = []
        warnings: list[str] = []
        template_code: str | None = None
        profile: Profile | None = None
        rule = "sender.template"
        looked = f"template for {doctype}"
        if relation is None:
            steps.append(TraceStep(rule, looked, "no relation, so no language code"))
        else:
            lc = self.cfg.language_codes.get((admin, relation.language))
            looked = (
                f"template for {doctype} in language code {relation.language} "
                f"of administration {admin}"
            )
            if lc is None:
                msg = (
                    f"Relation {relation.code} has language code {relation.language!r}, which "
                    f"does not exist in administration {admin}: there is no template for "
                    f"{doctype}, and the sender falls through to the administration."
                )
                warnings.append(msg)
                steps.append(TraceStep(rule, looked, "language code does not exist"))
            else:
                tcode = lc.templates.get(cast(DocType, doctype))
                template = self.cfg.templates.get(tcode) if tcode else None
                if not tcode:
                    warnings.append(
                        f"Language code {lc.code} of administration {admin} assigns no template "
                        f"to {doctype}: the message cannot be rendered until one is assigned, "
                        "and the sender falls through to the administration."
                    )
                    steps.append(TraceStep(rule, looked, "no template assigned"))
                elif template is None:
                    warnings.append(
                        f"Language code {lc.code} of administration {admin} assigns template "
                        f"{tcode!r} to {doctype}, which does not exist: the sender falls "
                        "through to the administration."
                    )
                    steps.append(TraceStep(rule, looked, f"template {tcode} does not exist"))
                else:
                    template_code = template.code
                    if template.object != doctype:
                        warnings.append(
                            f"Template {template.code} is for {template.object}, but language "
                            f"code {lc.code} of administration {admin} assigns it to {doctype}."
                        )
                    profile, found = self._referenced(
                        template.profile, f"template {template.code}", warnings
                    )
                    steps.append(TraceStep(rule, looked, found, profile is not None))
                    if profile is not None:
                        return self._choice(profile, "template", steps, warnings, template_code)
        rest = self._fallback_levels(("administration", "personal"), admin, user, steps, warnings)
        return self._choice(rest[0], rest[1], steps, warnings, template_code)

    def _fallback_levels(
        self,
        order: Sequence[str],
        admin: str | None,
        user: str,
        steps: list[TraceStep],
        warnings: list[str],
    ) -> tuple[Profile, Level]:
        for level in order:
            if level == "administration":
                profile = self._administration_level(admin, steps, warnings)
                if profile is not None:
                    return profile, "administration"
            else:
                profile = self._personal_level(user, steps, warnings)
                if profile is not None:
                    return profile, "personal"
        sp = self.system_profile
        steps.append(
            TraceStep(
                "sender.system",
                "system profile",
                f"profile {sp.code} ({sp.system}, {sp.sender or 'no sender'})",
                True,
            )
        )
        return sp, "system"

    def _administration_level(
        self, admin: str | None, steps: list[TraceStep], warnings: list[str]
    ) -> Profile | None:
        rule = "sender.administration"
        if admin is None:
            steps.append(TraceStep(rule, "administration profile", "no administration given"))
            return None
        record = self.cfg.administrations.get(admin)
        looked = f"profile of administration {admin}"
        if record is None:
            warnings.append(f"Administration {admin} does not exist; its level was skipped.")
            steps.append(TraceStep(rule, looked, "administration does not exist"))
            return None
        profile, found = self._referenced(record.profile, f"administration {admin}", warnings)
        steps.append(TraceStep(rule, looked, found, profile is not None))
        return profile

    def _personal_level(
        self, user: str, steps: list[TraceStep], warnings: list[str]
    ) -> Profile | None:
        rule = "sender.personal"
        looked = f"personal settings of user {user}"
        record = self.cfg.users.get(user)
        if record is None:
            steps.append(TraceStep(rule, looked, "user has no personal settings"))
            return None
        profile, found = self._referenced(record.profile, f"user {user}", warnings)
        if profile is not None and profile.system != self.system_profile.system:
            warnings.append(
                f"The personal profile {profile.code} of user {user} sends by "
                f"{profile.system}, but the system profile {self.system_profile.code} by "
                f"{self.system_profile.system}; personal settings must be of the same system, "
                "so the personal level was skipped."
            )
            steps.append(
                TraceStep(
                    rule,
                    looked,
                    f"profile {profile.code} is {profile.system}, system is "
                    f"{self.system_profile.system}: skipped",
                )
            )
            return None
        steps.append(TraceStep(rule, looked, found, profile is not None))
        return profile

    def _referenced(
        self, code: str | None, owner: str, warnings: list[str]
    ) -> tuple[Profile | None, str]:
        """The profile ``owner`` refers to, and what the trace should say about it."""
        if not code:
            return None, "no profile"
        profile = self.cfg.profiles.get(code)
        if profile is None:
            warnings.append(
                f"The profile {code!r} of {owner} does not exist; that level was skipped."
            )
            return None, f"profile {code} does not exist: skipped"
        return profile, f"profile {profile.code} ({profile.sender or 'no sender'})"

    # ------------------------------------------------------------ the choice

    def _choice(
        self,
        profile: Profile,
        level: Level,
        steps: list[TraceStep],
        warnings: list[str],
        template: str | None,
    ) -> SenderOutcome:
        choice = SenderChoice(
            profile=profile.code,
            address=self._sender_address(profile),
            name=profile.sender_name,
            level=level,
        )
        return SenderOutcome(choice, steps, warnings, template, profile)

    def _sender_address(self, profile: Profile) -> str:
        try:
            return self._from[profile.code]
        except KeyError:
            pass
        where = f"sender (From) of profile {profile.code}"
        if not profile.sender.strip():
            raise ConfigError(
                f"Profile {profile.code} has no sender (From) address, so nothing can be "
                "sent from it.",
                field=where,
                value=profile.sender,
                fix=f"fill in the sender address of profile {profile.code}.",
            )
        try:
            addr = check_address(profile.sender, where)
        except AddressError as exc:
            raise ConfigError(exc.message, field=where, value=exc.value, fix=exc.fix) from None
        self._from[profile.code] = addr
        return addr
