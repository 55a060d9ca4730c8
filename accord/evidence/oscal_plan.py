"""The run's OSCAL assessment plan (`oscal-assessment-plan.json`), which the assessment results
import (``import-ap``): what Accord set out to assess, built with compliance-trestle's models.

- Subjects: every system in the run's scope (`RunResult.scope`: the systems the site file names,
  the nodes, hosts, VMs and appliances they report) as a local inventory item with its kind, name,
  address, version and role (props in Accord's namespace), and each site's as one assessment
  subject. A run whose scope is unknown (a results.json from before scopes) assesses "all" of a
  site, and says so.
- Tasks: one per requirement in scope (per requirement and site for several sites), titled with
  its ID, described with its text and what its checks see and cannot see, with the requirement's
  props, the site's subjects, and the activity of its proof (one activity per kind of proof:
  config, wire, act, attest, each saying how Accord proves).
- Reviewed controls: the NIST SP 800-53 controls of the requirements, as in the results.
- ``import-ssp``: Accord has no system security plan to import; it points at a back-matter
  resource naming each site file by its SHA-256, which is what defined the systems.

The plan is written from the same run as the results, with the same version 5 UUIDs, so the two
files name the same subjects and the results say which plan they followed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import assessment_plan as ap

from accord.evidence.model import InScope, RequirementResult, RunResult, caveat

FILENAME = "oscal-assessment-plan.json"

# How each kind of proof (requirements.md, "proof") is carried out.
ACTIVITIES: dict[str, str] = {
    "config": "Read the setting back through the system's own API (Pexip management API, vSphere "
    "API) and compare it with the guide and the site file.",
    "wire": "Observe the system from outside as a client would: TLS handshakes, port probes, SNMP "
    "queries, HTTP requests.",
    "act": "Perform the guide's operation on a scratch system the site allows Accord to change, "
    "and check its outcome; never on a verified system.",
    "attest": "Record the site file's named, dated attestation of what no API can read; reported "
    "attested, never passed, and failed once it expires.",
}


def assessment_plan(
    run: RunResult,
    uuid: Callable[..., str],
    reviewed: common.ReviewedControls,
    prop: Callable[[str, str], common.Property],
) -> ap.AssessmentPlan:
    """The plan of ``run``; ``uuid``, ``reviewed`` and ``prop`` are the results' own, so that
    both files agree."""
    sites = list(run.sites) or list(dict.fromkeys(r.site for r in run.requirements))
    items = [
        (site, item, uuid("subject", site, item.kind, item.name, item.address))
        for site in sites
        for item in run.scope.get(site, ())
    ]
    subjects = {site: _subject(site, items, sites) for site in sites}
    proofs = sorted({p for r in run.requirements for p in _proofs(r)}, key=list(ACTIVITIES).index)
    activities = [
        common.Activity(
            uuid=uuid("activity", proof),
            title=f"Accord's {proof} proof",
            description=ACTIVITIES[proof],
            props=[prop("proof", proof)],
        )
        for proof in proofs
    ]
    tasks = [_task(r, uuid, prop) for r in run.requirements]
    resource = uuid("resource", "site-files")
    return ap.AssessmentPlan(
        uuid=uuid("assessment-plan"),
        metadata=common.Metadata(
            title=_line(f"Accord assessment plan: {run.site_name} ({run.target})"),
            last_modified=run.started,
            version=run.accord_version,
            oscal_version=OSCAL_VERSION,
            remarks=f"{said}." if (said := caveat(run.target, run.replayed_from)) else None,
        ),
        import_ssp=common.ImportSsp(
            href=f"#{resource}",
            remarks=(
                "Accord imports no system security plan: the systems assessed are this plan's "
                "inventory items, as the site file named them and the systems reported them."
            ),
        ),
        local_definitions=ap.LocalDefinitions(
            inventory_items=[_inventory_item(site, item, u, prop) for site, item, u in items]
            or None,
            activities=activities or None,
        ),
        reviewed_controls=reviewed,
        assessment_subjects=[subjects[site] for site in sites] or None,
        tasks=tasks or None,
        back_matter=common.BackMatter(
            resources=[
                common.Resource(
                    uuid=resource,
                    title="The site files",
                    description="The site file of each site, by SHA-256 (not in the folder).",
                    props=[prop("site-sha256", f"{name}: {sha}") for name, sha in run.sites.items()]
                    or None,
                )
            ]
        ),
    )


def _proofs(result: RequirementResult) -> list[str]:
    return [p for p in re.findall(r"[a-z]+", result.requirement.proof) if p in ACTIVITIES]


def _subject(
    site: str, items: list[tuple[str, InScope, str]], sites: list[str]
) -> common.AssessmentSubjectSpecific | common.AssessmentSubjectAll:
    mine = [u for s, _, u in items if s == site]
    named = f" of {site}" if len(sites) > 1 or site else ""
    if not mine:
        return common.AssessmentSubjectAll(
            type="inventory-item",
            description=f"Every system{named} (the run recorded no scope).",
            include_all=common.IncludeAll(),
        )
    return common.AssessmentSubjectSpecific(
        type="inventory-item",
        description=f"The systems{named} the run verified and what they reported.",
        include_subjects=[
            common.SelectSubjectById(subject_uuid=u, type="inventory-item") for u in mine
        ],
    )


def _inventory_item(
    site: str, item: InScope, uid: str, prop: Callable[[str, str], common.Property]
) -> common.InventoryItem:
    fields = {k: v for k, v in asdict(item).items() if v}
    return common.InventoryItem(
        uuid=uid,
        description=f"{item.kind} {item.name}" + (f" ({item.role})" if item.role else ""),
        props=[prop(key, value) for key, value in fields.items()]
        + ([prop("site", site)] if site else []),
    )


def _task(
    result: RequirementResult, uuid: Callable[..., str], prop: Callable[[str, str], common.Property]
) -> common.Task:
    requirement = result.requirement
    named = f" of {result.site}" if result.site else ""
    subject = common.AssessmentSubject(
        common.AssessmentSubjectAll(
            type="inventory-item",
            description=f"The plan's subjects{named}.",
            include_all=common.IncludeAll(),
        )
    )
    description = requirement.text
    if requirement.sees:
        description += f"\n\nSees: {requirement.sees}.\n\nCannot see: {requirement.cannot_see}."
    return common.Task(
        uuid=uuid("task", result.site, requirement.id),
        type="action",
        title=_line(f"{requirement.id}: {requirement.section}"),
        description=description,
        props=[
            prop("requirement", requirement.id),
            prop("proof", requirement.proof),
            prop("mapping", requirement.mapping),
            *(prop("guide", g.strip()) for g in requirement.guide.split(";") if g.strip()),
            *([prop("site", result.site)] if result.site else []),
        ],
        associated_activities=[
            common.AssociatedActivity(activity_uuid=uuid("activity", proof), subjects=[subject])
            for proof in _proofs(result)
        ]
        or None,
        subjects=[subject],
    )


def _line(text: str) -> str:
    return " ".join(text.split()) or "-"
