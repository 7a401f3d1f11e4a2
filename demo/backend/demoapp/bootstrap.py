"""Prepare the demo login before the web process starts: migrate the SQLite database, create the demo user.

`python3 -m demoapp.bootstrap` (bin/web). The demo user is DEMO_USERNAME (default demo) with the password
DEMO_PASSWORD (default demo-password: a demo, not a secret; set your own outside a laptop). Re-running it is a
no-op apart from setting the password again. The password is never printed.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    username = settings.DEMO_USERNAME
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    user.set_password(os.environ.get("DEMO_PASSWORD") or "demo-password")
    user.save()
    print(f"bootstrap: database {settings.DATABASES['default']['NAME']} migrated;"
          f" demo user {username!r} {'created' if created else 'present'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
