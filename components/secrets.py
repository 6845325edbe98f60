"""One Kubernetes Secret per secrets-backend path: synced by Infisical, or from Pulumi config.

With ``backend: infisical`` the stack writes an ``InfisicalSecret`` per path and the
operator creates and refreshes the Secret; no value passes through Pulumi. With
``backend: pulumi`` the values come from ``pulumi config set --secret --path
secrets.<path-name>.<KEY>`` and are written, encrypted in the state, into the Secret only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Secrets as SecretsSpec
from catalog.naming import secret_resource_name
from components.meta import Manifest, child_options, object_meta
from components.secret_refs import DerivedKey

__all__ = ["MissingSecretsError", "SecretValues", "Secrets", "SecretsArgs", "infisical_spec"]

_INFISICAL_API = "secrets.infisical.com/v1alpha1"
_RESYNC_SECONDS = 60


class MissingSecretsError(ValueError):
    """Keys the catalog references have no value in Pulumi config; lists how to set each."""

    def __init__(self, missing: Sequence[tuple[str, str]]) -> None:
        self.missing = list(missing)
        commands = "\n".join(
            f"  pulumi config set --secret --path 'secrets.{name}.{key}' <value>"
            for name, key in self.missing
        )
        super().__init__(f"{len(self.missing)} secret value(s) missing; set them with:\n{commands}")


@dataclass(frozen=True)
class SecretValues:
    """Values for the ``pulumi`` backend: path name → key → value (kept as secret Outputs)."""

    values: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, raw: object) -> SecretValues:
        """Wrap the ``secrets`` config object; every value becomes a secret Output.

        Raises:
            ValueError: the object is not ``{path-name: {KEY: string}}``.
        """
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping) or not all(
            isinstance(keys, Mapping) and all(isinstance(v, str) for v in keys.values())
            for keys in raw.values()
        ):
            raise ValueError(
                "config `secrets` must map path names to {KEY: value}, e.g. "
                "pulumi config set --secret --path 'secrets.database.POSTGRES_PASSWORD' <value>"
            )
        return cls(
            {
                str(name): {str(k): pulumi.Output.secret(v) for k, v in keys.items()}
                for name, keys in raw.items()
            }
        )

    @classmethod
    def placeholders(cls, required: Mapping[str, set[str]]) -> SecretValues:
        """Stand-in values for ``mcpfleet render``: names the key, reveals nothing."""
        return cls(
            {
                name: {key: pulumi.Output.secret(f"<{name}/{key}>") for key in sorted(keys)}
                for name, keys in required.items()
            }
        )


@dataclass(frozen=True)
class SecretsArgs:
    secrets: SecretsSpec
    namespace: pulumi.Input[str]
    required: Mapping[str, set[str]]
    derived: Mapping[str, Sequence[DerivedKey]] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    values: SecretValues = SecretValues()


def _go_template(derived: DerivedKey) -> str:
    """``{KEY}`` → Infisical's Go template ``{{ .KEY.Value }}`` (``urlquery`` when quoted)."""
    text = derived.template
    pipe = " | urlquery" if derived.url_quoted else ""
    out, rest = "", text
    while "{" in rest:
        before, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        out += f"{before}{{{{ .{key}.Value{pipe} }}}}"
    return out + rest


def infisical_spec(
    spec: SecretsSpec,
    path_name: str,
    namespace: pulumi.Input[str],
    derived: Sequence[DerivedKey] = (),
    secret_type: str | None = None,
) -> Manifest:
    """An ``InfisicalSecret`` spec syncing one path into ``mcpfleet-secrets-<path-name>``."""
    infisical = spec.infisical
    if infisical is None:
        raise ValueError("secrets.backend is infisical but secrets.infisical is not set")
    target: Manifest = {
        "secretName": secret_resource_name(path_name),
        "secretNamespace": namespace,
        "creationPolicy": "Owner",
    }
    if secret_type:
        target["secretType"] = secret_type
    if derived:
        target["template"] = {
            "includeAllSecrets": True,
            "data": {d.key: _go_template(d) for d in derived},
        }
    return {
        "hostAPI": infisical.host_api,
        "resyncInterval": _RESYNC_SECONDS,
        "authentication": {
            "universalAuth": {
                "credentialsRef": {
                    "secretName": infisical.auth_secret,
                    "secretNamespace": infisical.auth_secret_namespace or namespace,
                },
                "secretsScope": {
                    "projectSlug": infisical.project_slug,
                    "envSlug": infisical.env_slug,
                    "secretsPath": spec.paths[path_name],
                },
            }
        },
        "managedKubeSecretReferences": [target],
    }


def _derive(derived: DerivedKey, values: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[str]:
    names = [part.partition("}")[0] for part in derived.template.split("{")[1:]]
    quote_value = (lambda v: quote(v, safe="")) if derived.url_quoted else (lambda v: v)

    def fill(resolved: dict[str, str]) -> str:
        return derived.template.format(**{k: quote_value(v) for k, v in resolved.items()})

    if not names:
        return pulumi.Output.secret(derived.template)
    return pulumi.Output.secret(pulumi.Output.all(**{n: values[n] for n in names}).apply(fill))


class Secrets(pulumi.ComponentResource):
    """Every path of ``secrets.paths`` as a Kubernetes Secret named by :mod:`catalog.naming`."""

    def __init__(
        self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Secrets", name, None, opts)
        spec = args.secrets
        if spec.backend == "pulumi":
            missing = [
                (path_name, key)
                for path_name, keys in sorted(args.required.items())
                for key in sorted(keys)
                if key not in args.values.values.get(path_name, {})
            ]
            if missing:
                raise MissingSecretsError(missing)
        self.names: dict[str, str] = {}
        for path_name in sorted(spec.paths):
            secret_name = secret_resource_name(path_name)
            meta = object_meta(secret_name, component="secrets", namespace=args.namespace)
            derived = args.derived.get(path_name, ())
            if spec.backend == "infisical":
                k8s.apiextensions.CustomResource(
                    f"{name}-{path_name}",
                    api_version=_INFISICAL_API,
                    kind="InfisicalSecret",
                    metadata=meta,
                    spec=infisical_spec(
                        spec, path_name, args.namespace, derived, args.types.get(path_name)
                    ),
                    opts=child_options(self),
                )
            else:
                values = dict(args.values.values.get(path_name, {}))
                data = {key: pulumi.Output.secret(v) for key, v in sorted(values.items())}
                data.update({d.key: _derive(d, values) for d in derived})
                k8s.core.v1.Secret(
                    f"{name}-{path_name}",
                    metadata=meta,
                    type=args.types.get(path_name, "Opaque"),
                    string_data=data,
                    opts=child_options(self),
                )
            self.names[path_name] = secret_name
        self.register_outputs({"names": self.names})
