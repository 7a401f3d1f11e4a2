"""Where ``driver: swarm`` lived before infra/deploy/: an alias kept for existing stacks.

A stack created before infra/deploy/ existed holds ``infra.swarm.SwarmProvider`` in its state (dynamic providers are
pickled by reference, and refresh and destroy load the provider the state names), so this path stays importable.
New resources name ``infra.deploy.swarm``. Remove this module only together with a state migration.
"""

from infra.deploy.swarm import SwarmDeployment, SwarmError, SwarmProvider

__all__ = ["SwarmDeployment", "SwarmError", "SwarmProvider"]
