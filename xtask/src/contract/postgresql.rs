//! PostgreSQL + PostGIS: the chart's init script on a fresh cluster, then once more.

use super::inputs::{require, Inputs};
use super::process::{exec, free_port, keep_running, start_server, Server};
use crate::project::RELEASE;
use crate::report::Step;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The environment variables naming GeoNode's two databases: (database, owner, owner's password).
pub const DATABASE_VARIABLES: [(&str, &str, &str); 2] = [
    (
        "GEONODE_DATABASE",
        "GEONODE_DATABASE_USER",
        "GEONODE_DATABASE_PASSWORD",
    ),
    (
        "GEONODE_GEODATABASE",
        "GEONODE_GEODATABASE_USER",
        "GEONODE_GEODATABASE_PASSWORD",
    ),
];

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Server> {
    let result = (|| -> Result<Server, String> {
        let name = format!("{RELEASE}-postgresql");
        let script = inputs.config(&format!("{name}-initdb"), "10-geonode.sh")?;
        let env = inputs.env("StatefulSet", &name, "postgresql")?;
        let mut needed = vec!["POSTGRES_PASSWORD"];
        needed.extend(
            DATABASE_VARIABLES
                .iter()
                .flat_map(|(db, user, password)| [*db, *user, *password]),
        );
        require(&env, "postgresql", &needed)?;
        let dir = work.join("postgresql");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        exec(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        let script_path = dir.join("10-geonode.sh");
        fs::write(&script_path, script).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let as_postgres = |program: &str| {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", program]);
            cmd
        };
        let password_file = dir.join("pwfile");
        fs::write(
            &password_file,
            env.get("POSTGRES_PASSWORD")
                .ok_or("no POSTGRES_PASSWORD in the StatefulSet")?,
        )
        .map_err(|e| e.to_string())?;
        exec(
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&password_file),
        )?;
        let data = dir.join("data");
        exec(
            as_postgres("/usr/lib/postgresql/15/bin/initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "scram-sha-256"])
                .arg(format!("--pwfile={}", password_file.display())),
        )?;
        let server = start_server(
            as_postgres("/usr/lib/postgresql/15/bin/postgres")
                .arg("-D")
                .arg(&data)
                .args([
                    "-p",
                    &port.to_string(),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-k",
                ])
                .arg(&dir),
            "postgres",
            port,
        )?;
        let init = || {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", "sh"]).arg(&script_path);
            cmd.envs(&env)
                .env("PGHOST", "127.0.0.1")
                .env("PGPORT", port.to_string())
                .env("PGPASSWORD", &env["POSTGRES_PASSWORD"]);
            exec(&mut cmd)
        };
        let snapshot = || {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-At", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                .arg("select string_agg(rolname || ':' || rolcanlogin, ',' order by rolname) from pg_roles where rolname not like 'pg\\_%'; \
                      select string_agg(datname || ':' || pg_get_userbyid(datdba), ',' order by datname) from pg_database;")
                .env("PGPASSWORD", &env["POSTGRES_PASSWORD"]);
            exec(&mut cmd)
        };
        init().map_err(|e| format!("the chart's init script failed on a fresh cluster: {e}"))?;
        let first = snapshot()?;
        for (db, user, password) in DATABASE_VARIABLES {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-At", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", &env[user], "-d", &env[db], "-c"])
                .arg("select extversion from pg_extension where extname = 'postgis'; create table contract_check(id int); drop table contract_check;")
                .env("PGPASSWORD", &env[password]);
            let out = exec(&mut cmd).map_err(|e| {
                format!(
                    "{} cannot log in to {} and create a table: {e}",
                    env[user], env[db]
                )
            })?;
            if !out.lines().next().is_some_and(|v| v.starts_with('3')) {
                return Err(format!("database {} has no PostGIS: {out}", env[db]));
            }
        }
        init().map_err(|e| format!("the chart's init script failed when run again: {e}"))?;
        let second = snapshot()?;
        if first != second {
            return Err(format!(
                "running the init script again changed roles or databases:\n{first}\n{second}"
            ));
        }
        Ok(Server {
            port,
            _process: server,
        })
    })();
    step.detail =
        "init script from the ConfigMap: users, databases, PostGIS; second run changes nothing"
            .into();
    keep_running(result, step)
}
