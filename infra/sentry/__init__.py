"""Sentry for Pulumi: the HTTP client and one dynamic resource per Sentry object.

``client`` (connection, pacing, retries, pagination), ``errors`` (the exception tree), ``ids``
(composite ids), then ``project``, ``client_key``, ``alert`` (workflows), ``metric_monitor``
(detectors), ``inbound_filter`` and the legacy ``issue_alert`` / ``metric_alert``. Importing this
package has no side effects; provider classes are pickled by reference, so these module paths and
class names are part of the stack state.
"""
