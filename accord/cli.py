"""The `accord` command: `accord sim`, `accord deploy` and `accord evidence verify|diff|merge`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accord.site import SiteError, check_site, load_site


def cmd_sim(args: argparse.Namespace) -> int:
    """`accord sim`: the lab (`lab.run`), imported only here: the library never needs it."""
    from lab.run import run

    return run(args)


def cmd_deploy(args: argparse.Namespace) -> int:
    """Plan and apply the site's secure baseline (only `--dry-run` writes nothing). Every line
    it prints is scrubbed of every secret by value; a system that misbehaves ends it with one
    line naming the system, the request and what went wrong."""
    from accord import secrets
    from accord.deployer import deploy
    from accord.deployer.beyondtrust import BeyondTrustDeployError
    from accord.deployer.pexip import LockoutRefused
    from accord.deployer.vsphere import VspherePlanError
    from accord.http import ClientError

    site = load_site(args.site)
    check_site(site)
    try:
        deploy(site, dry_run=args.dry_run, out=lambda line: print(secrets.scrub(line)))
    except (
        ClientError,
        BeyondTrustDeployError,
        VspherePlanError,
        LookupError,
        LockoutRefused,
        OSError,
    ) as exc:
        print(secrets.scrub(f"accord deploy: {exc}"), file=sys.stderr)
        return 1
    return 0


def cmd_evidence_verify(args: argparse.Namespace) -> int:
    """Re-check a run's evidence folder against its manifest: one line per problem."""
    from accord.evidence.manifest import verify

    folder = Path(args.folder)
    problems = verify(folder)
    for problem in problems:
        print(f"{folder}: {problem}")
    if problems:
        return 1
    print(f"{folder}: every file matches its manifest")
    return 0


def cmd_evidence_diff(args: argparse.Namespace) -> int:
    """The requirements whose status changed between two runs, one line each."""
    from accord.evidence.diff import UnreadableRun, diff

    try:
        lines = diff(Path(args.old), Path(args.new))
    except UnreadableRun as exc:
        print(f"accord evidence diff: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


def cmd_evidence_merge(args: argparse.Namespace) -> int:
    """Several runs' evidence folders (one job per site, or per part of a site) as one folder."""
    from collections import Counter

    from accord.evidence.merge import MergeRefused, merge

    output = Path(args.output)
    try:
        run = merge([Path(folder) for folder in args.folders], output)
    except MergeRefused as exc:
        for problem in exc.problems:
            print(f"accord evidence merge: {problem}", file=sys.stderr)
        return 1
    for site in run.sites:
        counts = Counter(r.status for r in run.requirements if r.site == site)
        shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"{site}: {sum(counts.values())} requirements: {shown}")
    print(f"accord evidence merge: {len(args.folders)} runs merged into {output}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="accord", description="Executable acceptance tests for vendor hardening guides."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("sim", help="run the simulators in the foreground")
    sim.add_argument("--write-site", metavar="DIR", help="write DIR/site.toml reaching them")
    sim.add_argument("--site", metavar="FILE", help="simulate this site (its values and secrets)")
    sim.add_argument(
        "--sync-delay",
        metavar="SECONDS",
        type=float,
        default=0.0,
        help="how long a certificate change takes to reach the nodes' listeners (default 0; "
        "a real platform takes about a minute)",
    )
    sim.add_argument(
        "--nodes",
        metavar="N",
        type=int,
        default=3,
        help="Conferencing Nodes of the primary deployment (default 3), each with its "
        "listeners and SNMP agent; the lab site names them all",
    )
    sim.add_argument(
        "--locations",
        metavar="M",
        type=int,
        default=2,
        help="locations of the primary deployment (default 2); nodes are spread over them",
    )
    sim.set_defaults(func=cmd_sim)
    dep = commands.add_parser("deploy", help="apply the site's secure baseline")
    dep.add_argument("--site", metavar="FILE", required=True)
    dep.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    dep.set_defaults(func=cmd_deploy)
    evidence = commands.add_parser("evidence", help="check and compare runs' evidence folders")
    evidence_commands = evidence.add_subparsers(dest="evidence_command", required=True)
    verify = evidence_commands.add_parser(
        "verify", help="re-check every file of a run's folder against its manifest.json"
    )
    verify.add_argument("folder", metavar="DIR", help="the run's reports folder")
    verify.set_defaults(func=cmd_evidence_verify)
    diff = evidence_commands.add_parser(
        "diff", help="list the requirements whose status changed between two runs"
    )
    diff.add_argument("old", metavar="OLD", help="the earlier run's folder (or results.json)")
    diff.add_argument("new", metavar="NEW", help="the later run's folder (or results.json)")
    diff.set_defaults(func=cmd_evidence_diff)
    merged = evidence_commands.add_parser(
        "merge",
        help="merge the evidence folders of several runs (one job per site or part of a site) "
        "into one folder with one manifest, HDF, OSCAL and HTML report",
    )
    merged.add_argument("folders", nargs="+", metavar="DIR", help="each run's reports folder")
    merged.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="the merged folder (new or empty)"
    )
    merged.set_defaults(func=cmd_evidence_merge)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SiteError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
