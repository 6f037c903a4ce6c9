from __future__ import annotations

import subprocess
import sys

import actors


def test_user_facing_names_resolve_from_the_package() -> None:
    for name in actors.__all__:
        assert getattr(actors, name) is not None, name


def test_importing_one_component_does_not_import_the_others() -> None:
    code = (
        "import sys, actors.tools; heavy = ('actors.agent', 'actors.workflow', 'usearch'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
