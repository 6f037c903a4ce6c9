from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import runtime
import runtime.testing

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = {
    "Actor",
    "ActorConfig",
    "ActorCrashed",
    "ActorError",
    "ActorNursery",
    "ActorRef",
    "ActorStats",
    "ActorStopped",
    "AskTimeout",
    "ConfigError",
    "Context",
    "Envelope",
    "LoggingConfig",
    "MailboxFull",
    "Mastra",
    "NameTaken",
    "Reply",
    "RestartIntensityExceeded",
    "RuntimeConfig",
    "RuntimeSection",
    "SelfAskError",
    "SpawnOptions",
    "Spawnable",
    "Spawner",
    "StreamCall",
    "StreamClosed",
    "StreamWriter",
    "SupervisionConfig",
    "TelemetryConfig",
    "UnhandledMessage",
    "__version__",
    "add_config_dir_to_path",
    "config_from_dict",
    "configure_logging",
    "load_config",
    "open_runtime",
}


def test_public_names_are_pinned() -> None:
    assert set(runtime.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(runtime, name), name
    assert {"open_test_runtime", "spawn_probe", "Probe", "ProbeLog"} <= set(runtime.testing.__all__)


def test_error_tree_is_flat_under_actor_error() -> None:
    for name in (
        "MailboxFull",
        "ActorCrashed",
        "ActorStopped",
        "AskTimeout",
        "SelfAskError",
        "NameTaken",
        "StreamClosed",
        "UnhandledMessage",
        "RestartIntensityExceeded",
    ):
        assert issubclass(getattr(runtime, name), runtime.ActorError)
    assert issubclass(runtime.AskTimeout, TimeoutError)


def test_runtime_never_imports_actors() -> None:
    offenders = []
    for path in (ROOT / "runtime").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "actors"]
    assert offenders == []
    code = (
        "import sys, runtime, runtime.testing, runtime.__main__; "
        "print(any(m == 'actors' or m.startswith('actors.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
