"""Installs every extension into moto's classes and URL tables (once, before serving)."""

from __future__ import annotations

_INSTALLED = {"done": False}


def install() -> None:
    if _INSTALLED["done"]:
        return
    from . import ext_backup, ext_compute, ext_ecr, ext_ecs, ext_efs, ext_elbv2, ext_route53, ext_secrets

    for module in (ext_backup, ext_efs, ext_secrets, ext_ecr, ext_route53, ext_compute, ext_elbv2, ext_ecs):
        module.install()
    _INSTALLED["done"] = True
