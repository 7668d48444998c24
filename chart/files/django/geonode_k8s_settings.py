"""GeoNode's Django settings on Kubernetes, shipped by the geonode Helm chart.

GeoNode configures itself from environment variables. The chart hands database and Redis
credentials over as separate variables read from Secrets; this module puts them into the URLs
GeoNode expects, quoted, so a password may hold any character and no URL with a password is ever
written into a ConfigMap or a pod spec. Then it loads GeoNode's settings and adds what a site
behind nginx and an Ingress needs.
"""

import importlib
import os
from urllib.parse import quote

_env = os.environ


def _userinfo(user, password):
    if not password:
        return quote(user, safe="") + "@" if user else ""
    return "{}:{}@".format(quote(user, safe=""), quote(password, safe=""))


def _database_url(name, user, password):
    return "postgis://{}{}:{}/{}".format(
        _userinfo(_env[user], _env[password]),
        _env["DATABASE_HOST"],
        _env.get("DATABASE_PORT", "5432"),
        quote(_env[name], safe=""),
    )


def _redis_url(database, host="REDIS_HOST", port="REDIS_PORT"):
    return "redis://{}{}:{}/{}".format(
        _userinfo("", _env.get("REDIS_PASSWORD", "")),
        _env[host],
        _env.get(port, "6379"),
        database,
    )


# Explicit settings (the chart's `geonode.settings`) win over the ones built here.
_env.setdefault("DATABASE_URL", _database_url("GEONODE_DATABASE", "GEONODE_DATABASE_USER", "GEONODE_DATABASE_PASSWORD"))
_env.setdefault(
    "GEODATABASE_URL",
    _database_url("GEONODE_GEODATABASE", "GEONODE_GEODATABASE_USER", "GEONODE_GEODATABASE_PASSWORD"),
)
_env.setdefault("BROKER_URL", _redis_url(0))
_env.setdefault("CELERY_RESULT_BACKEND", _redis_url(1))

# The project's settings (geonode.project.settingsModule: GeoNode's own, or a geonode-project's,
# which imports GeoNode's), as `from <module> import *` would take them.
_project = importlib.import_module(_env.get("GEONODE_K8S_PROJECT_SETTINGS", "geonode.settings"))
globals().update(
    {
        name: getattr(_project, name)
        for name in getattr(_project, "__all__", [n for n in vars(_project) if not n.startswith("_")])
    }
)

# Django's cache, one for the whole site (the chart's redis.cache, or redis.external.cache): GeoNode
# keeps a resource's permissions there and clears them when they change, which reaches every uwsgi
# process, pod and Celery worker only if they share it (GeoNode's default keeps one per process).
# memcached, when the chart runs it, is set by GeoNode's own settings (MEMCACHED_ENABLED).
if _env.get("GEONODE_K8S_CACHE_HOST"):
    CACHES["default"] = {  # noqa: F405
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_url(0, "GEONODE_K8S_CACHE_HOST", "GEONODE_K8S_CACHE_PORT"),
        "TIMEOUT": 600,
    }
    CACHES["services"] = CACHES["default"] | {"TIMEOUT": SERVICE_CACHE_EXPIRATION_TIME}  # noqa: F405

# nginx passes on the scheme the client used (the Ingress's X-Forwarded-Proto when TLS ends
# there), so Django builds https links and accepts https POSTs without redirect loops.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [SITEURL.rstrip("/")]  # noqa: F405

# allauth limits failed logins per client address (GeoNode: 10 a minute); every request reaches
# Django through nginx, which sets X-Forwarded-For to the one address it believes (the client's, or
# what a trusted proxy said). Count that address, not nginx's own, which would lock everyone out.
ALLAUTH_TRUSTED_PROXY_COUNT = 1

# Connections kept open between requests (geonode.databaseConnectionMaxAge) are checked before a
# request reuses one, so a restarted or failed-over PostgreSQL costs no request an error.
for _database in DATABASES.values():  # noqa: F405
    _database.setdefault("CONN_HEALTH_CHECKS", True)

# GeoNode 5.1 signs OpenID Connect ID tokens with an RSA key written into its settings.py, the
# same on every site; the site's own key comes from the chart's Secret, in Django's container only
# (the others sign nothing, and get no key at all rather than the public one).
OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = _env.get("OIDC_RSA_PRIVATE_KEY", "")  # noqa: F405

# geonode.oidc: GeoNode's OpenID Connect login provider, described by the chart's values. Its
# client secret is only in Django's container (from the operator's Secret): Celery and the init
# Job load the same apps and settings but never exchange a code for a token.
if _env.get("GEONODE_K8S_OIDC_CLIENT_ID"):
    SOCIALACCOUNT_PROVIDERS[SOCIALACCOUNT_OIDC_PROVIDER] = {  # noqa: F405
        "NAME": _env["GEONODE_K8S_OIDC_NAME"],
        "SCOPE": _env["GEONODE_K8S_OIDC_SCOPE"].split(),
        "AUTH_PARAMS": {},
        # GeoNode's field: the provider's claim (standard OpenID Connect claims, as Keycloak sends).
        "COMMON_FIELDS": {
            "username": "preferred_username",
            "email": "email",
            "first_name": "given_name",
            "last_name": "family_name",
        },
        "UID_FIELD": "sub",
        "GROUP_ROLE_MAPPER_CLASS": SOCIALACCOUNT_GROUP_ROLE_MAPPER,  # noqa: F405
        "AUTHORIZE_URL": _env["GEONODE_K8S_OIDC_AUTHORIZE_URL"],
        "ACCESS_TOKEN_URL": _env["GEONODE_K8S_OIDC_TOKEN_URL"],
        "PROFILE_URL": _env["GEONODE_K8S_OIDC_USERINFO_URL"],
        "ID_TOKEN_ISSUER": _env["GEONODE_K8S_OIDC_ISSUER"],
        "OAUTH_PKCE_ENABLED": _env.get("GEONODE_K8S_OIDC_PKCE") == "True",
        "APP": {
            "client_id": _env["GEONODE_K8S_OIDC_CLIENT_ID"],
            "secret": _env.get("GEONODE_K8S_OIDC_CLIENT_SECRET", ""),
        },
    }

# geonode.settingsAdditions, last, with this module's names at hand (INSTALLED_APPS += ...).
_additions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "settings_additions.py")
if os.path.exists(_additions):
    with open(_additions, encoding="utf-8") as _file:
        exec(compile(_file.read(), _additions, "exec"))  # noqa: S102 - the operator's own settings
