"""A supervised, structured-concurrent actor runtime on Trio.

Every component is an ``Actor``: a Trio task that owns its state and talks to the rest only
through messages in a bounded mailbox. ``open_runtime`` starts the root ``Mastra`` actor,
which supervises everything with OTP semantics and traces every hop with OpenTelemetry.
"""

from runtime._actor import Actor, ActorNursery, Context, StreamWriter
from runtime._config import (
    ActorConfig,
    LoggingConfig,
    RuntimeConfig,
    RuntimeSection,
    SupervisionConfig,
    TelemetryConfig,
    add_config_dir_to_path,
    config_from_dict,
    load_config,
)
from runtime._errors import (
    ActorCrashed,
    ActorError,
    ActorStopped,
    AskTimeout,
    ConfigError,
    MailboxFull,
    NameTaken,
    RestartIntensityExceeded,
    SelfAskError,
    StreamClosed,
    UnhandledMessage,
)
from runtime._logging import configure_logging
from runtime._mailbox import Envelope, Reply
from runtime._ref import ActorRef, StreamCall
from runtime._root import ActorStats, Mastra, open_runtime
from runtime._spawn import Spawnable, Spawner, SpawnOptions

__version__ = "0.1.0"

__all__ = [
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
    "StreamCall",
    "Spawner",
    "StreamClosed",
    "StreamWriter",
    "SupervisionConfig",
    "TelemetryConfig",
    "UnhandledMessage",
    "__version__",
    "config_from_dict",
    "configure_logging",
    "add_config_dir_to_path",
    "load_config",
    "open_runtime",
]
