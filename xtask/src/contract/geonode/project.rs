//! A site's own GeoNode project, shaped as geonode-project makes one: a Django project package
//! whose settings import GeoNode's and add an app, its own URLs, WSGI module and Celery
//! application, a fixture and a management command. The contract runs GeoNode as this project
//! (tests/contract/values.yaml names it), so the chart's geonode.project values, settings
//! additions, site fixtures and init commands are exercised by the real GeoNode.

use std::fs;
use std::path::Path;

/// The project's directory in the image, as tests/contract/values.yaml names it.
pub const PROJECT_DIR: &str = "/usr/src/contract-site";

/// What the project's page says: its own setting, then what the chart's settings additions add.
pub const GREETING: &str =
    "served by the contract's own GeoNode project and the chart's settings additions";

/// The groups the site's fixture (editors) and its init commands (reviewers before the setup,
/// publishers after it) create, each exactly once however often the Job runs.
pub const GROUPS: [&str; 3] = [
    "contract-site-editors",
    "contract-site-publishers",
    "contract-site-reviewers",
];

const FILES: &[(&str, &str)] = &[
    ("contract_site/__init__.py", ""),
    (
        "contract_site/settings.py",
        r#"from geonode.settings import *  # noqa: F401,F403

INSTALLED_APPS += ("contract_site.site_app",)  # noqa: F405
ROOT_URLCONF = "contract_site.urls"
CONTRACT_SITE_GREETING = "served by the contract's own GeoNode project"
"#,
    ),
    (
        "contract_site/urls.py",
        r#"from django.conf import settings
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.urls import path
from geonode.urls import urlpatterns as geonode_urlpatterns


def site_page(request):
    groups = Group.objects.filter(name__startswith="contract-site-").order_by("name")
    names = ",".join(group.name for group in groups)
    return HttpResponse(settings.CONTRACT_SITE_GREETING + "\n" + names, content_type="text/plain")


urlpatterns = [path("contract-site/", site_page)] + geonode_urlpatterns
"#,
    ),
    (
        "contract_site/wsgi.py",
        r#"import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contract_site.settings")
application = get_wsgi_application()
"#,
    ),
    (
        "contract_site/celeryapp.py",
        r#"import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contract_site.settings")
app = Celery("contract_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"#,
    ),
    ("contract_site/site_app/__init__.py", ""),
    (
        "contract_site/site_app/apps.py",
        r#"from django.apps import AppConfig


class SiteAppConfig(AppConfig):
    name = "contract_site.site_app"
    label = "contract_site_app"
"#,
    ),
    (
        "contract_site/site_app/fixtures/contract_site_groups.json",
        r#"[{"model": "auth.group", "fields": {"name": "contract-site-editors", "permissions": []}}]
"#,
    ),
    ("contract_site/site_app/management/__init__.py", ""),
    ("contract_site/site_app/management/commands/__init__.py", ""),
    (
        "contract_site/site_app/management/commands/ensure_contract_group.py",
        r#"from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Makes a group unless it exists (idempotent, as an init command must be)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, **options):
        Group.objects.get_or_create(name=options["name"])
"#,
    ),
];

/// Writes the project into `dir` (where PROJECT_DIR is in this run).
pub fn write(dir: &Path) -> Result<(), String> {
    for (path, text) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// Python that prints how many groups of each name the site has, one `name count` per line.
pub fn group_counts_py() -> String {
    format!(
        "from django.contrib.auth.models import Group\nfor name in {:?}:\n    print(name, Group.objects.filter(name=name).count())",
        GROUPS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_is_a_package_with_settings_wsgi_and_celery() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path()).unwrap();
        for module in ["settings", "wsgi", "celeryapp", "urls", "__init__"] {
            assert!(dir
                .path()
                .join(format!("contract_site/{module}.py"))
                .is_file());
        }
        assert!(group_counts_py().contains("contract-site-editors"));
    }
}
