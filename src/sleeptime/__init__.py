"""sleeptime: sleep-time compute for LLM apps.

Think about a context while no query is pending (``Engine.sleep``: S(c) -> c'),
then answer queries from the learned context with a small budget
(``Engine.ask``: T_b(q, c') -> a).
"""

from __future__ import annotations

from . import errors
from .answer import Answer, AnswerStream
from .budget import AskBudget, Budget, SleepBudget
from .context import Context
from .engine import Engine
from .errors import *  # noqa: F403  (the error tree: errors.__all__)
from .learned import LearnedContext
from .llm.base import Usage

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AnswerStream",
    "AskBudget",
    "Budget",
    "Context",
    "Engine",
    "LearnedContext",
    "SleepBudget",
    "Usage",
    "__version__",
]
__all__ += errors.__all__
