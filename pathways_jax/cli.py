"""Helpers for absl entry points: flag and config errors as one clear line."""

from __future__ import annotations

import os
import sys

from absl import flags


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line, without quoting noise; an embedded
    traceback is reduced to its final line."""
    text = str(error).strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()  # Quotes around the whole message, not inside it.
    text = text or type(error).__name__
    if "Traceback (most recent call last)" in text:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        text = lines[0].split("Traceback")[0].strip() + " " + lines[-1]
    return " ".join(text.split())


def _unknown_key_message(argv: list[str], name: str) -> str:
    """``unknown config key KEY in --config.KEY=VALUE`` for the override of
    ``argv`` that names the unknown key ``name``."""
    for argument in argv:
        key = argument.split("=", 1)[0]
        if key.startswith("--config.") and name in key.split(".")[1:]:
            return f"unknown config key {key[len('--config.') :]!r} in {argument}"
    return f"unknown config key in an override: {name}"


def parse_flags(argv: list[str]) -> list[str]:
    """``absl`` flags parser that reports bad flags and bad config files or
    overrides (``--config``, ``--config.KEY=VALUE``) in one line and exits 2."""
    program = os.path.basename(argv[0]) if argv else "pathways_jax"
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        message = one_line(error)
    except (AttributeError, KeyError) as error:
        message = _unknown_key_message(argv, one_line(error))
    except (TypeError, ValueError, OSError, SyntaxError, ImportError) as error:
        message = f"{type(error).__name__}: {one_line(error)}"
    print(f"{program}: error: {message}", file=sys.stderr)
    sys.exit(2)


def load_config_or_exit(config_flag):
    """The value of a ``config_flags`` flag; a config file that cannot be loaded
    (missing, or raising on import) is reported in one line with exit status 2."""
    try:
        config = config_flag.value
        "seed" in config  # noqa: B015 - a config that failed to load raises here.
        return config
    except (OSError, SyntaxError, ImportError, AttributeError, TypeError, ValueError) as error:
        cause = error.__cause__ or error
        lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
        detail = lines[-1] if lines else type(cause).__name__
        program = os.path.basename(sys.argv[0]) if sys.argv else "pathways_jax"
        print(f"{program}: error: --config cannot be loaded: {detail}", file=sys.stderr)
        sys.exit(2)
