import re
from pathlib import Path

from django.conf import settings


def test_every_environment_variable_is_documented():
    source = (Path(settings.BASE_DIR) / "cetatea" / "settings.py").read_text()
    docs = (Path(settings.BASE_DIR) / "docs" / "configuration.md").read_text()
    used = set(re.findall(r'env\w*\(\s*"([A-Z_]+)"', source))
    used |= set(re.findall(r'dev_secret\(\s*"\w+",\s*"([A-Z_]+)"', source))
    assert used, "no variables found: the pattern is out of date"
    missing = sorted(v for v in used if f"`{v}`" not in docs)
    assert not missing, f"undocumented variables: {missing}"
