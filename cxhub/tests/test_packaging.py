"""Every app is shipped, tested and held to the import contracts."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def top_level_packages_with_tests() -> set[str]:
    """Return the project's top-level Python packages that hold a tests/ folder."""
    return {
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file() and (path / "tests").is_dir()
    }


def test_every_package_with_tests_is_shipped_tested_and_linted():
    config = _pyproject()
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    testpaths = config["tool"]["pytest"]["ini_options"]["testpaths"]
    linter = config["tool"]["importlinter"]
    acyclic = next(c for c in linter["contracts"] if c["type"] == "acyclic_siblings")
    missing = {
        package: [
            where
            for where, ok in [
                ("setuptools packages", any(fnmatch(package, p) for p in include)),
                ("pytest testpaths", package in testpaths),
                ("import-linter root_packages", package in linter["root_packages"]),
                ("acyclic contract", package in acyclic["ancestors"]),
                ("INSTALLED_APPS", package in settings.INSTALLED_APPS),
            ]
            if not ok
        ]
        for package in top_level_packages_with_tests()
    }
    assert {package: where for package, where in missing.items() if where} == {}


def test_the_check_sees_a_package_that_only_has_tests(tmp_path, monkeypatch):
    (tmp_path / "newapp" / "tests").mkdir(parents=True)
    (tmp_path / "newapp" / "__init__.py").write_text("")
    (tmp_path / "notapackage" / "tests").mkdir(parents=True)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert top_level_packages_with_tests() == {"newapp"}
