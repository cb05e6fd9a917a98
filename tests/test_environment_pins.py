"""environment.yml (conda) and pyproject.toml (pip) pin the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# conda entries that are not Python packages pinned in pyproject.toml
NOT_IN_PYPROJECT = {"python", "pip"}

_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(==|=)?\s*([^\s;#,]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse_spec(spec: str) -> tuple[str, str | None]:
    m = _SPEC.match(spec)
    assert m, f"cannot parse requirement {spec!r}"
    name, op, version = m.groups()
    return _norm(name), (version if op else None)


def parse_simple_environment_yml(text: str) -> dict:
    """Parse the small subset of YAML that environment.yml uses.

    Top-level ``key: value`` and ``key:`` followed by ``- item`` lists; one
    nested ``- pip:`` list inside ``dependencies``.  Used when PyYAML is not
    installed, and checked against PyYAML when it is.
    """
    data: dict = {}
    key: str | None = None
    nested: list | None = None
    nested_indent = -1
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0:
            nested = None
            k, _, v = body.partition(":")
            key = k.strip()
            data[key] = v.strip() if v.strip() else []
            continue
        assert key is not None and body.startswith("-"), f"unexpected line {raw!r}"
        item = body[1:].strip()
        if nested is not None and indent > nested_indent:
            nested.append(item[1:].strip() if item.startswith("-") else item)
            continue
        nested = None
        if item.endswith(":"):
            nested = []
            nested_indent = indent
            data[key].append({item[:-1].strip(): nested})
        else:
            data[key].append(item)
    return data


def _load_env() -> dict:
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        return parse_simple_environment_yml(text)
    return yaml.safe_load(text)


def _conda_pins(env: dict) -> dict[str, str | None]:
    pins: dict[str, str | None] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep.get("pip", []):
                name, version = _parse_spec(spec)
                pins[name] = version
        else:
            name, version = _parse_spec(str(dep))
            pins[name] = version
    return pins


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        specs.extend(group)
    pins: dict[str, str] = {}
    for spec in specs:
        name, version = _parse_spec(spec)
        assert version, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[name] = version
    return pins


def test_environment_header() -> None:
    env = _load_env()
    assert env["name"] == "gidr"
    assert env["channels"] == ["conda-forge"]
    conda = _conda_pins(env)
    assert conda["python"] == "3.11"


def test_every_pyproject_pin_is_in_environment_yml_with_same_version() -> None:
    conda = _conda_pins(_load_env())
    for name, version in _pyproject_pins().items():
        assert name in conda, f"{name} is pinned in pyproject.toml but missing from environment.yml"
        assert conda[name] == version, (
            f"{name}: pyproject.toml pins {version}, environment.yml pins {conda[name]}"
        )


def test_every_environment_pin_is_in_pyproject_with_same_version() -> None:
    py = _pyproject_pins()
    for name, version in _conda_pins(_load_env()).items():
        if name in NOT_IN_PYPROJECT:
            continue
        assert version, f"environment.yml: {name} is not pinned"
        assert py.get(name) == version, (
            f"{name}: environment.yml pins {version}, pyproject.toml pins {py.get(name)}"
        )


def test_environment_python_satisfies_requires_python() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", project["requires-python"].strip())
    assert m, project["requires-python"]
    want = tuple(int(x) for x in m.groups())
    have = tuple(int(x) for x in _conda_pins(_load_env())["python"].split(".")[:2])
    assert have >= want


def test_simple_parser_agrees_with_pyyaml() -> None:
    yaml = pytest.importorskip("yaml")
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    assert parse_simple_environment_yml(text) == yaml.safe_load(text)
