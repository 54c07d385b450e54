"""The systemd units in deploy/systemd (docs/deploy.md) start real commands, hardened."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

ROOT = Path(settings.BASE_DIR)
UNITS = ROOT / "deploy" / "systemd"
APP = "/srv/cetatea/app"
PYTHON = f"{APP}/.venv/bin/python"
HARDENING = {
    "User": "cetatea",
    "Group": "cetatea",
    "EnvironmentFile": "/etc/cetatea/env",
    "WorkingDirectory": APP,
    "NoNewPrivileges": "true",
    "PrivateTmp": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "CapabilityBoundingSet": "",
}


def read_unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(path)
    return parser


def services() -> list[Path]:
    return sorted(UNITS.glob("*.service"))


def environment_defaults(unit: configparser.RawConfigParser) -> dict[str, str]:
    line = unit.get("Service", "Environment", fallback="")
    return dict(item.split("=", 1) for item in shlex.split(line))


def manage_py_call(path: Path) -> list[str] | None:
    """The manage.py arguments of a unit's ExecStart, ${VAR} replaced by its default."""
    unit = read_unit(path)
    command = unit.get("Service", "ExecStart")
    for name, value in environment_defaults(unit).items():
        command = command.replace("${" + name + "}", value)
    words = shlex.split(command.replace("%H", "host").replace("%i", "1"))
    if words[:2] != [PYTHON, "manage.py"]:
        return None
    return words[2:]


def serve_sh_periodic_commands() -> set[str]:
    script = (ROOT / "scripts" / "serve.sh").read_text()
    loop = script[script.index("while sleep") : script.index("done ) &")]
    return set(re.findall(r"manage\.py (\w+)", loop))


def timer_commands() -> dict[str, list[str]]:
    found = {}
    for timer in sorted(UNITS.glob("*.timer")):
        service = timer.with_suffix(".service")
        assert service.is_file(), f"{timer.name} has no {service.name}"
        call = manage_py_call(service)
        assert call, f"{service.name} does not run manage.py"
        found[call[0]] = call
    return found


def test_every_periodic_job_of_serve_sh_has_a_timer():
    timers = timer_commands()
    missing = serve_sh_periodic_commands() - set(timers)
    assert not missing, f"no timer for: {sorted(missing)}"
    # And the daily housekeeping of a production server.
    assert {"backup", "apply_retention", "clearsessions"} <= set(timers)


def test_every_exec_start_is_a_real_command_with_valid_options():
    commands = get_commands()
    calls = {path.name: manage_py_call(path) for path in services()}
    calls = {name: call for name, call in calls.items() if call is not None}
    assert {
        "cetatea-worker@.service",
        "cetatea-robot-sip.service",
        "cetatea-robot-agi.service",
    } <= set(calls)
    for unit, (name, *args) in calls.items():
        assert name in commands, f"{unit}: manage.py {name} does not exist"
        command = load_command_class(commands[name], name)
        # Raises SystemExit (argparse) on an unknown option or a bad value.
        command.create_parser("manage.py", name).parse_args(args)


def test_web_unit_runs_gunicorn_with_the_project_configuration():
    unit = read_unit(UNITS / "cetatea-web.service")
    words = shlex.split(unit.get("Service", "ExecStart"))
    assert words == [f"{APP}/.venv/bin/gunicorn", "-c", f"{APP}/deploy/gunicorn.conf.py"]
    assert unit.get("Service", "Type") == "notify"  # gunicorn calls sd_notify(READY=1)


def test_worker_template_gives_each_instance_its_own_id():
    call = manage_py_call(UNITS / "cetatea-worker@.service")
    assert call[0] == "db_worker" and "--worker-id=host-1" in call and "--no-reload" in call


@pytest.mark.parametrize("path", services(), ids=lambda p: p.name)
def test_every_service_is_hardened(path):
    service = dict(read_unit(path).items("Service"))
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{path.name}: {key}={service.get(key)!r}"
    writable = set(service["ReadWritePaths"].split())
    assert {"/srv/cetatea/media", "/srv/cetatea/private", "/srv/cetatea/var"} <= writable


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.timer")), ids=lambda p: p.name)
def test_every_timer_is_persistent_and_installed(path):
    unit = read_unit(path)
    assert unit.get("Timer", "OnCalendar")
    assert unit.get("Timer", "Persistent") == "true"  # a run missed while down happens at boot
    assert "timers.target" in unit.get("Install", "WantedBy").split()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is missing")
def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    # verify checks that each ExecStart program exists: point the units at this checkout.
    for path in UNITS.iterdir():
        text = path.read_text().replace(APP, str(ROOT))
        (tmp_path / path.name).write_text(text)
    (tmp_path / "cetatea-worker@1.service").write_text(
        (tmp_path / "cetatea-worker@.service").read_text()
    )
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("gunicorn is not installed in .venv")
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != "cetatea-worker@.service")
    result = subprocess.run(  # noqa: S603 - fixed program, our own unit files
        ["systemd-analyze", "verify", "--man=no", *names],  # noqa: S607 - found with which
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
