"""Finding a usable Java runtime for the pycocoevalcap jars (PTB tokenizer, METEOR 1.5, SPICE).

Every JVM this package starts goes through :func:`java_command`, so that all of them get the same
forced English locale and UTF-8 encoding: METEOR's ``-norm`` lowercases with the default locale
(a Turkish locale would change ``I``), and the tokenizer reads its input file in the default charset.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from annotations.errors import OmniDiffError

MIN_JAVA_MAJOR = 8
INSTALL_HINT = (
    "install Java 8 or later (Debian/Ubuntu: sudo apt-get install default-jre-headless; "
    "macOS: brew install openjdk) or point JAVA_HOME or OMNIDIFF_JAVA at one"
)
LOCALE_FLAGS = ("-Duser.language=en", "-Duser.country=US", "-Dfile.encoding=UTF-8")


class JavaError(OmniDiffError):
    """Java is missing, too old, or failed to run one of the scoring jars."""


@dataclass(frozen=True)
class JavaRuntime:
    executable: str
    major: int

    def command(self, *args: str, heap: str | None = None) -> list[str]:
        """``java`` with the forced locale flags, an optional heap limit, then ``args``."""
        cmd = [self.executable, *LOCALE_FLAGS]
        if heap:
            cmd.append(f"-Xmx{heap}")
        return cmd + list(args)


def _candidate() -> str | None:
    explicit = os.environ.get("OMNIDIFF_JAVA")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise JavaError(f"OMNIDIFF_JAVA={explicit} is not an executable file; {INSTALL_HINT}")
        return explicit
    home = os.environ.get("JAVA_HOME")
    if home:
        path = os.path.join(home, "bin", "java")
        if os.access(path, os.X_OK):
            return path
    return shutil.which("java")


def parse_java_major(version_text: str) -> int | None:
    """Major version from ``java -version`` output: '1.8.0_292' -> 8, '17.0.15' -> 17."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if not match:
        match = re.search(r"(?:openjdk|java) (\d+)(?:\.(\d+))?", version_text)
    if not match:
        return None
    first = int(match.group(1))
    if first == 1 and match.group(2):
        return int(match.group(2))
    return first


@lru_cache(maxsize=8)
def _probe(executable: str) -> JavaRuntime:
    try:
        proc = subprocess.run([executable, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaError(f"Java at {executable} does not run ({exc}); {INSTALL_HINT}") from None
    major = parse_java_major(proc.stderr + proc.stdout)
    if major is None:
        raise JavaError(f"cannot read the version of {executable}; {INSTALL_HINT}")
    if major < MIN_JAVA_MAJOR:
        raise JavaError(f"Java {major} at {executable} is too old for the scoring jars; {INSTALL_HINT}")
    return JavaRuntime(executable, major)


def find_java() -> JavaRuntime:
    """The Java runtime to use, checked; raises :class:`JavaError` with install advice otherwise."""
    executable = _candidate()
    if executable is None:
        raise JavaError(f"Java was not found (needed by the METEOR and PTB tokenizer jars); {INSTALL_HINT}")
    return _probe(os.path.realpath(executable))
