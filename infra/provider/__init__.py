"""The ``sentrystacks`` Pulumi resource provider plugin (``pulumi-resource-sentrystacks``).

``plugin`` (the provider: dispatch, thread pool, configure and preflight), ``server`` (the SDK's gRPC servicer with
the fixes it needs), ``values`` (wire values <-> plain values), ``config`` (the provider's own inputs), ``kinds``
(the resource types) and ``schema`` (the package schema, generated from the typed declarations). Importing this
package has no side effects.
"""
