"""Where ``driver: compose`` lived before infra/deploy/: an alias kept for existing stacks.

A stack created before infra/deploy/ existed holds ``infra.compose.ComposeProvider`` in its state (dynamic
providers are pickled by reference, and refresh and destroy load the provider the state names), so this path stays
importable. New resources name ``infra.deploy.compose``. Remove this module only together with a state migration.
"""

from infra.deploy.compose import ComposeDeployment, ComposeError, ComposeProvider

__all__ = ["ComposeDeployment", "ComposeError", "ComposeProvider"]
