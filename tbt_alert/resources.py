"""Where the project's shipped files are: ``rules/`` and ``templates/``.

In the source tree they are top-level folders beside the package (analysts edit ``rules/`` there);
a wheel carries them inside the package as ``tbt_alert/rules`` and ``tbt_alert/templates`` (see
``[tool.setuptools.package-dir]`` in ``pyproject.toml``). Both installs find them through
:func:`resource_dir`; nothing else reads a path relative to ``__file__``.
"""

from __future__ import annotations

from pathlib import Path

from tbt_alert.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED = ("rules", "templates")


def resource_dir(name: str) -> Path:
    """The folder ``name`` ("rules" or "templates"): inside the installed package when a wheel put
    it there, else beside the package in a source checkout (an editable install)."""
    if name not in SHIPPED:
        raise ValueError(f"unknown resource folder {name!r}")
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"the {name}/ folder is missing from this installation of tbt-alert "
        f"(looked in {PACKAGE_DIR} and {PACKAGE_DIR.parent}); reinstall the package"
    )
