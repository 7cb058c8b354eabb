"""Settings for a Lambda container: plain values from the environment, secrets from
SSM Parameter Store, read once per cold start.

Terraform gives each function, for every secret VAR, the *name* of its SecureString
parameter in `VAR_SSM_PARAMETER` (deploy/terraform/contract.json, "environment").
GetParameters takes at most 10 names per call (SSM API reference, GetParameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3

from sendsongs.config import Settings, load_settings
from sendsongs.errors import ConfigError

SUFFIX = "_SSM_PARAMETER"
PLACEHOLDER = "unset"  # what Terraform writes until the operator stores the real value
BATCH = 10


def parameter_names(environ: Mapping[str, str]) -> dict[str, str]:
    """{VAR: parameter name} for every `VAR_SSM_PARAMETER` in the environment."""
    return {
        name.removesuffix(SUFFIX): value
        for name, value in environ.items()
        if name.endswith(SUFFIX) and value
    }


def read_secrets(names: Mapping[str, str], ssm: Any) -> dict[str, str]:
    """{VAR: decrypted value}; a parameter still holding the placeholder counts as unset.
    ConfigError names any parameter that does not exist."""
    by_parameter = {parameter: var for var, parameter in names.items()}
    found: dict[str, str] = {}
    missing: list[str] = []
    wanted = sorted(by_parameter)
    for start in range(0, len(wanted), BATCH):
        answer = ssm.get_parameters(Names=wanted[start : start + BATCH], WithDecryption=True)
        for parameter in answer.get("Parameters", []):
            if parameter["Value"] != PLACEHOLDER:
                found[by_parameter[parameter["Name"]]] = parameter["Value"]
        missing += answer.get("InvalidParameters", [])
    if missing:
        raise ConfigError(f"SSM parameters not found: {', '.join(sorted(missing))}")
    return found


def lambda_settings(environ: Mapping[str, str], ssm: Any = None) -> Settings:
    """The environment's settings with the secrets of its SSM parameters."""
    names = parameter_names(environ)
    secrets = read_secrets(names, ssm or boto3.client("ssm")) if names else {}
    return load_settings(**secrets)
