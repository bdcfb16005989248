"""Joining or starting Ray for the ``--backend ray`` commands (render scenes as tasks, eval replicas as actors).

Without an address a local Ray starts for the command and stops with it; ``auto`` (or ``HOST:PORT``,
``ray://HOST:PORT``) joins a running cluster, which stays up. A process that is already connected (a
notebook, the test session) keeps its connection and its Ray. A local start sets ``RAY_AUTH_MODE=disabled``
unless the environment says otherwise: the first ``ray.init`` would else write an auth token under the home
folder and turn token authentication on for every later one.

The driver of a command is the only writer of what it makes (the store, the prediction cache): tasks and
actors send their results back through Ray's object store, so the nodes need no shared folder for that.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from annotations.errors import OmniDiffError

INSTALL_HINT = "pip install 'omnidiff[ray]'"
FORWARDED_PREFIX = "OMNIDIFF_"  # the command's own settings (debug output, test faults) reach every node


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise OmniDiffError(f"--backend ray needs Ray, which is not installed here ({INSTALL_HINT})") from None
    return ray


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """The ``ray`` module, connected: to ``address``, else to a local Ray started here (and stopped at the end)."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    debug = bool(os.environ.get("OMNIDIFF_DEBUG"))
    common = {"logging_level": logging.INFO if debug else logging.WARNING, "log_to_driver": debug}
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        try:
            ray.init(address="local", include_dashboard=False, **common)
        except Exception as exc:  # noqa: BLE001 - Ray raises several kinds; each is one line for the user
            raise OmniDiffError(f"cannot start a local Ray: {_one_line(exc)}") from None
    else:
        try:
            ray.init(address=address, **common)
        except Exception as exc:  # noqa: BLE001
            raise OmniDiffError(f"--ray-address {address}: cannot join the Ray cluster ({_one_line(exc)})") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def task_env() -> dict[str, Any]:
    """Ray ``runtime_env`` options that carry this command's ``OMNIDIFF_*`` variables to its tasks and actors
    (empty when there are none, so the tasks share the cluster's default worker processes)."""
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIX)}
    return {"runtime_env": {"env_vars": env}} if env else {}


def cluster_total(ray: Any, resource: str) -> float:
    return float(ray.cluster_resources().get(resource, 0.0))


def unwrap_error(exc: BaseException) -> BaseException:
    """The exception a task or actor raised, out of Ray's wrappers (RayTaskError, ActorDiedError)."""
    seen = 0
    while seen < 5:  # wrappers nest at most a few deep
        cause = getattr(exc, "cause", None)
        if not isinstance(cause, BaseException) or cause is exc:
            break
        exc, seen = cause, seen + 1
    return exc


def error_line(exc: BaseException) -> str:
    """One line for the user: the original error's type and first line."""
    inner = unwrap_error(exc)
    if isinstance(inner, OmniDiffError):
        return _one_line(inner)
    return f"{type(inner).__name__}: {_one_line(inner)}"
