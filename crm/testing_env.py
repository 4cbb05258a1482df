"""pytest plugin (loaded with `-p crm.testing_env` before Django is set up):
test-run defaults for the environment, and real PostgreSQL and Redis found
the same way `make test` promises: DATABASE_URL / REDIS_URL when set, else
the servers on 127.0.0.1:5432 and :6379 when they answer, else embedded ones."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("MANIFEST_STATIC", "0")
# Each test process (xdist workers included) gets its own cache keys.
os.environ["CACHE_KEY_PREFIX"] = f"crm-test-{os.getpid()}"
# ... and its own Celery queue, so a worker started by a test only takes that process's tasks.
os.environ["CELERY_QUEUE"] = f"crm-test-{os.getpid()}"
os.environ.setdefault("TEST_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
    from crm import devstack

    devstack.ensure_services(os.environ)
