"""The kernel's exception tree, documented in one place.

```
ActorError                      base of every error the kernel raises
├── MailboxFull                 send_nowait() found the mailbox at capacity
├── ActorCrashed                the handler raised; ``__cause__`` holds the original error
├── ActorStopped                the target stopped (or was stopped) before it replied
├── AskTimeout (TimeoutError)   ask(timeout=...) expired before the reply arrived
├── SelfAskError                an actor asked itself and would have deadlocked
├── NameTaken                   spawn() used a name already registered under that kind
├── StreamClosed                the streaming caller went away while chunks were being sent
├── UnhandledMessage            the actor does not handle this message type (nothing was sent)
└── RestartIntensityExceeded    a supervisor saw too many restarts and escalated
ConfigError (ValueError)        the configuration failed to decode; names the ``$.path``
```
"""

from __future__ import annotations

__all__ = [
    "ActorCrashed",
    "ActorError",
    "ActorStopped",
    "AskTimeout",
    "ConfigError",
    "MailboxFull",
    "NameTaken",
    "RestartIntensityExceeded",
    "SelfAskError",
    "StreamClosed",
    "UnhandledMessage",
]


class ActorError(Exception):
    """Base class of every error raised by the actor kernel."""


class MailboxFull(ActorError):
    """``send_nowait`` found the target's mailbox at capacity; nothing was enqueued."""


class ActorCrashed(ActorError):
    """The handler raised while handling this message.

    The original exception is chained as ``__cause__``. The failing message was dropped.
    An actor that restarts on a crash (``Actor.restart_on_crash``) is restarted according to
    its restart policy, and the other messages it was handling at that moment fail with this
    error too; any other actor keeps running and only this message failed.
    """


class ActorStopped(ActorError):
    """The target actor stopped before it handled (or finished handling) this message."""


class AskTimeout(ActorError, TimeoutError):
    """``ask(timeout=...)`` expired before a reply arrived."""


class SelfAskError(ActorError):
    """An actor handling one message at a time asked itself, which could never complete."""


class NameTaken(ActorError):
    """``spawn`` was given a name that is already registered under the same kind."""


class StreamClosed(ActorError):
    """The caller of ``ActorRef.stream`` stopped reading; the handler is being cancelled."""


class UnhandledMessage(ActorError, TypeError):
    """The actor does not handle this type of message.

    Raised by ``send`` / ``ask`` / ``stream`` before anything is enqueued when the actor's
    ``receive`` annotation names the types it accepts, and in the asker when a handler
    raises it; either way the actor keeps running.
    """


class RestartIntensityExceeded(ActorError):
    """A child restarted more often than its supervisor allows; the supervisor gave up.

    Raised from ``open_runtime`` when the escalation reaches the root.
    """


class ConfigError(ValueError):
    """A configuration value is missing or has the wrong type; the message names its path."""
