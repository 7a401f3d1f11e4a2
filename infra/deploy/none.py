"""``driver: none``: no containers. The stack manages the Sentry side (projects, keys, alerts, monitors, releases)
and renders the env files and, for reference, the compose file; the team's own pipeline (a Helm chart, ECS, Fly, a
PaaS) deploys the services.

What the pipeline reads: the stack output ``serviceEnvs`` (secret), per service the environment it must run with
(the same mapping as its rendered ``<service>.env``: DSN, environment, release, rates, data collection), and
``dsns`` (secret). The preview does not check images (nothing runs on this machine), and no Sentry deploy is
recorded (the pipeline knows when its rollout is done: ``sentry-cli releases deploys <release> new -e
<environment>``). A DSN rotation (``sentry-stacks-rotate-dsn``) stops after the files and says what the pipeline
must do.
"""

from __future__ import annotations

import pulumi

from infra.deploy.protocol import Deployed, DeployRequest

#: what `up` says a pipeline must do with the stack's outputs (also in the README)
PIPELINE_HINT = (
    "driver none: no containers are deployed by this stack. Deploy the services with your pipeline, each with its"
    " environment from the stack output serviceEnvs (`pulumi stack output serviceEnvs --show-secrets --json`) or"
    " its rendered file in {deploy_dir}; after the rollout record it in Sentry (`sentry-cli releases deploys"
    " {release} new -e {environment}`)."
)


class NoneDriver:
    """Nothing to run: the outputs carry each service's environment for another deployment tool."""

    name = "none"
    runs_containers = False
    mounts_env_files = False

    def declare(self, request: DeployRequest) -> Deployed:
        s = request.settings
        pulumi.log.info(PIPELINE_HINT.format(deploy_dir=s.deploy_dir, release=s.release or "<release>",
                                             environment=s.environment))  # fmt: skip
        return Deployed(exports={"serviceEnvs": pulumi.Output.secret(request.envs)})


DRIVER = NoneDriver()

__all__ = ["DRIVER", "PIPELINE_HINT", "NoneDriver"]
