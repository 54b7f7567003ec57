"""sleeptime: sleep-time compute for LLM apps.

Think about a context while no query is pending (``Engine.sleep``: S(c) -> c'),
then answer queries from the learned context with a small budget
(``Engine.ask``: T_b(q, c') -> a).
"""

from __future__ import annotations

from .answer import Answer
from .budget import Budget
from .context import Context
from .engine import Engine
from .errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    BudgetExceededError,
    ConfigurationError,
    ContextTooLongError,
    InvalidInputError,
    MalformedOutputError,
    ModelUnavailableError,
    NotFoundError,
    RateLimitedError,
    SleeptimeError,
    StoreError,
)
from .learned import LearnedContext
from .llm.base import Usage

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "BackendError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "Budget",
    "BudgetExceededError",
    "ConfigurationError",
    "Context",
    "ContextTooLongError",
    "Engine",
    "InvalidInputError",
    "LearnedContext",
    "MalformedOutputError",
    "ModelUnavailableError",
    "NotFoundError",
    "RateLimitedError",
    "SleeptimeError",
    "StoreError",
    "Usage",
    "__version__",
]
