#!/usr/bin/env python3
"""CI's security audit (run by ``make test``; docs/security.md, "Security audit in CI").

Three checks, each failing the build with a list of what to fix:

1. Static security lint: ruff's ``S`` rules (the bandit rule set) over the whole tree.
2. No finding left unexplained: every ``# noqa: S…`` in the code and every ``S`` rule in
   pyproject's per-file ignores must be explained in docs/security.md's table
   "Suppressed security findings" (one row per rule, saying why it is safe here).
3. Dependency audit: pip-audit over the pinned requirements (runtime and development).
   A known vulnerability fails the build unless its id is listed, with a reason, in
   ``.pip-audit-ignore``. When the vulnerability service cannot be reached (a machine
   that only reaches the package index), the audit says so loudly and, unless
   ``CETATEA_AUDIT_STRICT=true``, does not fail: it cannot tell anything either way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DOC = ROOT / "docs" / "security.md"
IGNORE_FILE = ROOT / ".pip-audit-ignore"
SKIP_DIRS = {".venv", ".git", "node_modules", "var", "migrations"}
NOQA = re.compile(r"#\s*(?:ruff:\s*)?noqa:\s*([A-Z0-9, ]+)")
RULE = re.compile(r"\bS\d{3}\b")


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else name


def suppressed_rules(root: Path = ROOT) -> dict[str, list[str]]:
    """Every S rule silenced in the tree: rule -> where (file:line or pyproject)."""
    found: dict[str, list[str]] = {}
    for path in root.rglob("*.py"):
        if SKIP_DIRS.intersection(path.relative_to(root).parts):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in NOQA.finditer(line):
                for rule in RULE.findall(match.group(1)):
                    found.setdefault(rule, []).append(f"{path.relative_to(root)}:{number}")
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    lint = pyproject.get("tool", {}).get("ruff", {}).get("lint", {})
    for rule in lint.get("ignore", []):
        if RULE.fullmatch(rule):
            found.setdefault(rule, []).append("pyproject.toml [tool.ruff.lint] ignore")
    for pattern, rules in lint.get("per-file-ignores", {}).items():
        for rule in rules:
            if RULE.fullmatch(rule):
                found.setdefault(rule, []).append(f"pyproject.toml per-file-ignores {pattern}")
    return found


def explained_rules(doc: Path = DOC) -> set[str]:
    """The rules with a row in docs/security.md's "Suppressed security findings" table."""
    if not doc.exists():
        return set()
    text = doc.read_text()
    start = text.find("Suppressed security findings")
    if start < 0:
        return set()
    rules = set()
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip(" `") for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and RULE.fullmatch(cells[0]) and cells[1]:
            rules.add(cells[0])
    return rules


def ignored_vulnerabilities(path: Path = IGNORE_FILE) -> dict[str, str]:
    """``.pip-audit-ignore``: one ``ID  reason`` per line; a line without a reason is invalid."""
    ignored = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            vuln_id, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit(f"{path.name}: {vuln_id} has no reason")
            ignored[vuln_id] = reason.strip()
    return ignored


def classify(report: dict, ignored: dict[str, str]) -> tuple[list[str], list[str], int, int]:
    """pip-audit's JSON -> (failures, accepted, audited count, skipped count)."""
    failures, accepted = [], []
    audited = skipped = 0
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            skipped += 1
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no release"
            line = f"{dep['name']} {dep.get('version', '')}: {vuln['id']} (fixed in {fixed})"
            known = next((i for i in ids if i in ignored), None)
            if known:
                accepted.append(f"{line}: accepted, {ignored[known]}")
            else:
                failures.append(line)
    return failures, accepted, audited, skipped


def run_lint() -> list[str]:
    """ruff with the project's own configuration (S selected, S101 ignored), S findings only."""
    result = subprocess.run(  # noqa: S603 - fixed argument list, our own tool
        [_tool("ruff"), "check", "--output-format", "concise", "--no-fix", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if re.search(r": S\d{3} ", line)]


def run_dependency_audit() -> dict:
    result = subprocess.run(  # noqa: S603 - fixed argument list, our own tool
        [
            _tool("pip-audit"),
            *("-r", str(ROOT / "requirements.txt"), "-r", str(ROOT / "requirements-dev.txt")),
            *("--no-deps", "--disable-pip", "--progress-spinner", "off", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    try:
        return json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        print(result.stderr, file=sys.stderr)
        raise SystemExit("pip-audit gave no report (see above)") from None


def main() -> int:
    failed = False
    lint = run_lint()
    if lint:
        failed = True
        print("Security lint (ruff S rules) found:\n  " + "\n  ".join(lint[:100]))
    else:
        print("Security lint (ruff S rules): no findings")

    suppressed = suppressed_rules()
    unexplained = sorted(set(suppressed) - explained_rules())
    if unexplained:
        failed = True
        print("Security findings silenced without an explanation in docs/security.md:")
        for rule in unexplained:
            print(f"  {rule}: {', '.join(suppressed[rule][:5])}")
    else:
        print(f"Silenced security rules, each explained in docs/security.md: {len(suppressed)}")

    failures, accepted, audited, skipped = classify(
        run_dependency_audit(), ignored_vulnerabilities()
    )
    for line in accepted:
        print(f"  {line}")
    if failures:
        failed = True
        print("Known vulnerabilities in pinned dependencies:\n  " + "\n  ".join(failures))
    if audited == 0:
        print(
            f"WARNING: the dependency audit could not reach a vulnerability service "
            f"({skipped} packages not audited). Nothing is known either way."
        )
        if os.environ.get("CETATEA_AUDIT_STRICT", "").lower() in {"1", "true", "yes"}:
            failed = True
    else:
        print(
            f"Dependency audit: {audited} packages audited, {skipped} skipped, "
            f"{len(failures)} unaccepted vulnerabilities"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
