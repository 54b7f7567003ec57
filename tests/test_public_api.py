"""``sleeptime.__all__`` is exactly the public surface, and every error is in the drawn tree."""

from __future__ import annotations

import inspect

import sleeptime
from sleeptime import errors

PUBLIC = {
    # the facade and its records
    "Engine",
    "Context",
    "LearnedContext",
    "Answer",
    "AnswerStream",
    "Budget",
    "SleepBudget",
    "AskBudget",
    "Usage",
    "__version__",
    # the error tree (errors.py)
    "SleeptimeError",
    "ConfigurationError",
    "InvalidInputError",
    "ContextTooLongError",
    "PayloadTooLargeError",
    "ParamError",
    "MalformedAuthorizationError",
    "AuthenticationError",
    "NotFoundError",
    "BudgetExceededError",
    "QuotaExceededError",
    "SleepCancelled",
    "ModelUnavailableError",
    "StoreError",
    "BackendError",
    "BackendTimeoutError",
    "RateLimitedError",
    "BackendUnavailableError",
    "MalformedOutputError",
}


def test_all_is_exactly_the_public_names() -> None:
    assert set(sleeptime.__all__) == PUBLIC
    assert len(sleeptime.__all__) == len(PUBLIC)  # no name twice
    for name in sleeptime.__all__:
        assert hasattr(sleeptime, name), name


def _errors_defined_in(module: object) -> set[str]:
    name = getattr(module, "__name__", "")
    return {
        key
        for key, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, errors.SleeptimeError) and obj.__module__ == name
    }


def test_every_error_is_in_the_tree_and_exported() -> None:
    defined = _errors_defined_in(errors)
    assert defined == set(errors.__all__)
    assert defined <= set(sleeptime.__all__)
    drawn = errors.__doc__ or ""
    for name in defined:
        assert f" {name} " in drawn.replace("──", " "), f"{name} is not drawn in errors.py's docstring"


def test_no_other_module_defines_a_sleeptime_error() -> None:
    import importlib
    import pkgutil

    elsewhere: list[str] = []
    for info in pkgutil.walk_packages(sleeptime.__path__, "sleeptime."):
        if info.name.endswith("__main__") or info.name.startswith(
            ("sleeptime.bench", "sleeptime._sandbox", "sleeptime.store.migrations")
        ):
            continue
        if info.name == errors.__name__:
            continue
        module = importlib.import_module(info.name)
        elsewhere += [f"{info.name}.{name}" for name in _errors_defined_in(module)]
    assert elsewhere == [], "errors belong in errors.py's one tree"
