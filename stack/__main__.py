"""The Pulumi program: load the catalog, build the fleet, export what an operator needs."""

from pathlib import Path

import pulumi

from catalog import load_catalog
from components.fleet import FLEET_NAME, Fleet, FleetArgs
from components.secrets import SecretValues

config = pulumi.Config()
catalog_dir = config.get("catalogDir") or Path(__file__).resolve().parent.parent / "catalog"
catalog = load_catalog(catalog_dir)
secrets = (
    SecretValues.from_config(config.get_object("secrets"))
    if catalog.platform.secrets.backend == "pulumi"
    else SecretValues()
)
fleet = Fleet(
    FLEET_NAME, FleetArgs(catalog, secrets, in_cluster=bool(config.get_bool("inCluster")))
)

pulumi.export("namespace", fleet.namespace)
pulumi.export("gatewayIp", fleet.gateway_ip)
pulumi.export("gatewayUrl", fleet.gateway_url)
pulumi.export("publicUrl", fleet.public_url)
pulumi.export("databaseHost", fleet.database_host)
pulumi.export("servers", fleet.server_endpoints)
pulumi.export("prerequisites", fleet.prerequisites)
