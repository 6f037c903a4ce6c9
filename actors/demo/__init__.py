"""The offline demo served by ``config/default.toml``.

``actors.demo.agent`` holds the ``add`` tool and the ``echo`` agent (the scripted model and
memory of 10 messages); ``actors.demo.workflows`` holds ``three-step`` and ``approval`` and
their deployments. The names are re-exported here.
"""

from actors.demo.agent import Sum, add, echo
from actors.demo.workflows import approval, approval_app, three_step, three_step_app

__all__ = ["Sum", "add", "approval", "approval_app", "echo", "three_step", "three_step_app"]
