"""CI's security audit (scripts/security_audit.py): silenced findings must be explained,
known vulnerabilities fail unless accepted with a reason."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "security_audit", ROOT / "scripts" / "security_audit.py"
)
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)


def test_every_silenced_security_rule_in_the_tree_is_explained():
    suppressed = audit.suppressed_rules()
    assert "S608" in suppressed  # the scan sees the tree's real suppressions
    missing = sorted(set(suppressed) - audit.explained_rules())
    assert not missing, f"explain these in docs/security.md: {missing}"


NOQA = "no" + "qa"


def _tree(tmp_path: Path, code: str, doc: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ruff.lint]\nignore = ["S101"]\n'
        '[tool.ruff.lint.per-file-ignores]\n"bench/*" = ["S311", "E501"]\n'
    )
    (tmp_path / "app.py").write_text(code)
    (tmp_path / "doc.md").write_text(doc)
    return tmp_path


def test_a_new_noqa_without_a_row_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        # (spelt in two pieces so that the scan of the real tree does not see them here)
        f"x = eval(s)  # {NOQA}: S307 - trust me\nimport pickle  # {NOQA}: S403,E402\n",
        "# Security\n\n### Suppressed security findings\n\n| Rule | Why |\n|---|---|\n"
        "| S101 | tests only |\n| S311 | demo data |\n| S403 | |\n\n## Next\n| S307 | late |\n",
    )
    found = audit.suppressed_rules(root)
    assert found["S307"] == ["app.py:1"]
    assert found["S403"] == ["app.py:2"]
    assert found["S311"] == ["pyproject.toml per-file-ignores bench/*"]
    assert "E501" not in found
    explained = audit.explained_rules(root / "doc.md")
    # A row with an empty reason, and a row after the table's section, do not count.
    assert explained == {"S101", "S311"}
    assert sorted(set(found) - explained) == ["S307", "S403"]


def _report(*vulns: dict, skipped: int = 0) -> dict:
    deps = [{"name": "django", "version": "5.2.1", "vulns": list(vulns)}]
    deps += [{"name": f"p{i}", "skip_reason": "not found"} for i in range(skipped)]
    return {"dependencies": deps, "fixes": []}


def test_a_known_vulnerability_fails_unless_accepted_with_a_reason(tmp_path):
    vuln = {"id": "PYSEC-2026-1", "aliases": ["CVE-2026-1234"], "fix_versions": ["5.2.2"]}
    failures, accepted, audited, skipped = audit.classify(_report(vuln, skipped=2), {})
    assert failures == ["django 5.2.1: PYSEC-2026-1 (fixed in 5.2.2)"]
    assert (audited, skipped) == (1, 2)

    ignore = tmp_path / "ignore"
    ignore.write_text("# accepted findings\nCVE-2026-1234 only affects the MySQL backend\n")
    failures, accepted, *_ = audit.classify(_report(vuln), audit.ignored_vulnerabilities(ignore))
    assert failures == []
    assert accepted == [
        "django 5.2.1: PYSEC-2026-1 (fixed in 5.2.2): accepted, only affects the MySQL backend"
    ]


def test_an_accepted_vulnerability_needs_a_reason(tmp_path):
    ignore = tmp_path / "ignore"
    ignore.write_text("PYSEC-2026-1\n")
    with pytest.raises(SystemExit, match="has no reason"):
        audit.ignored_vulnerabilities(ignore)
