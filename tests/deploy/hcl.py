"""The Terraform files of deploy/terraform as plain Python values, read with python-hcl2."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

hcl2 = pytest.importorskip(
    "hcl2", reason="python-hcl2 is not installed: pip install 'python-hcl2>=8.1'"
)

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "deploy" / "terraform"
BOOTSTRAP = TERRAFORM / "bootstrap"
CONTRACT = TERRAFORM / "contract.json"

_QUOTED = re.compile(r'^"(.*)"$', re.DOTALL)
_STRING_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unquote(text: str) -> str:
    """python-hcl2 8 keeps the quotes of string literals ('"pk"'); older releases do not."""
    match = _QUOTED.match(text)
    return match.group(1).replace('\\"', '"').replace("\\\\", "\\") if match else text


def clean(value: Any) -> Any:
    """Drop the parser's block markers and the quotes around keys and literals."""
    if isinstance(value, dict):
        return {unquote(k): clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str):
        return unquote(value)
    return value


def string_literals(expression: str) -> list[str]:
    """The quoted literals inside an HCL expression, unescaped."""
    return [
        literal.replace('\\"', '"').replace("\\\\", "\\")
        for literal in _STRING_LITERAL.findall(expression)
    ]


def load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return clean(hcl2.load(handle))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Stack:
    """Every top-level block of one Terraform directory, merged across its files."""

    files: dict[Path, dict[str, Any]]

    @classmethod
    @functools.cache
    def read(cls, directory: Path) -> Stack:
        return cls({path: load(path) for path in sorted(directory.glob("*.tf"))})

    def blocks(self, kind: str) -> list[Any]:
        return [block for parsed in self.files.values() for block in parsed.get(kind, [])]

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for block in self.blocks("locals"):
            merged.update(block)
        return merged

    def variables(self) -> dict[str, dict[str, Any]]:
        return {name: body for block in self.blocks("variable") for name, body in block.items()}

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {name: body for block in self.blocks("output") for name, body in block.items()}

    def of_type(self, kind: str, type_name: str) -> dict[str, dict[str, Any]]:
        """Resources (kind "resource") or data sources (kind "data") of one type, by name."""
        found: dict[str, dict[str, Any]] = {}
        for block in self.blocks(kind):
            found.update(block.get(type_name, {}))
        return found

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return self.of_type("resource", type_name)


def contract() -> dict[str, Any]:
    return json.loads(CONTRACT.read_text())  # type: ignore[no-any-return]


def in_terraform(name: str) -> str:
    """A contract name ('{prefix}-people') as locals.tf spells it."""
    return name.replace("{prefix}", "${var.name_prefix}")
