"""Installs every extension into moto's classes and URL tables (once, before serving)."""

from __future__ import annotations

_INSTALLED = {"done": False}


def install() -> None:
    if _INSTALLED["done"]:
        return
    from . import ext_backup, ext_ecr, ext_ecs, ext_efs, ext_route53, ext_secrets
    from . import ext_arc, ext_cloudwatch, ext_fis, ext_iam, ext_zonalshift

    for module in (ext_backup, ext_efs, ext_secrets, ext_ecr, ext_route53, ext_ecs):
        module.install()
    for module in (ext_arc, ext_zonalshift, ext_fis, ext_cloudwatch, ext_iam):
        module.install()
    from . import contract

    contract.install()  # last: it enumerates what the others installed
    _INSTALLED["done"] = True
