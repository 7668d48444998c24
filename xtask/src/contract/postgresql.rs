//! PostgreSQL + PostGIS: the chart's init script on a fresh cluster made with older passwords,
//! then once more; then the chart's start script, which must bring every password in line with
//! the Secret's (a changed password value has to reach a server that already exists).

use super::inputs::{require, Inputs};
use crate::process::{chmod, exec, free_port, keep_running, start_container, Running, Server};
use crate::project::RELEASE;
use crate::report::Step;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
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

/// Debian's PostgreSQL 15 programs (server and clients), as the contract installs them.
pub(super) const BIN: &str = "/usr/lib/postgresql/15/bin";

type Env = BTreeMap<String, String>;

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Server> {
    let result = (|| -> Result<Server, String> {
        let name = format!("{RELEASE}-postgresql");
        let env = inputs.env("StatefulSet", &name, "postgresql")?;
        let mut needed = vec!["POSTGRES_PASSWORD", "POSTGRES_USER"];
        needed.extend(
            DATABASE_VARIABLES
                .iter()
                .flat_map(|(db, user, password)| [*db, *user, *password]),
        );
        require(&env, "postgresql", &needed)?;
        let local = Local::new(work.join("postgresql"))?;
        for script in ["10-geonode.sh", "start.sh"] {
            let path = local.dir.join(script);
            fs::write(&path, inputs.config(&format!("{name}-initdb"), script)?)
                .map_err(|e| e.to_string())?;
            chmod(&path, 0o755).map_err(|e| e.to_string())?;
        }
        // The server as an older release left it: every password different from the Secret's.
        let old = older_passwords(&env);
        local.initdb(&old["POSTGRES_PASSWORD"])?;
        let server = start_container(&mut local.postgres(), "postgresql", local.port)?;
        local
            .init(&old)
            .map_err(|e| format!("the chart's init script failed on a fresh cluster: {e}"))?;
        let first = local.snapshot(&old)?;
        local.check_logins(&old)?;
        local
            .init(&old)
            .map_err(|e| format!("the chart's init script failed when run again: {e}"))?;
        let second = local.snapshot(&old)?;
        if first != second {
            return Err(format!(
                "running the init script again changed roles or databases:\n{first}\n{second}"
            ));
        }
        local.stop(server)?;
        // The chart's start script with the Secret's passwords on that existing directory.
        let server = start_container(&mut local.start_script(&env)?, "postgresql", local.port)?;
        local.check_logins(&env).map_err(|e| {
            format!("after start.sh, the Secret's passwords do not open the server: {e}")
        })?;
        if local.check_logins(&old).is_ok() {
            return Err("after start.sh, the older passwords still open the server".into());
        }
        let server = owners_stay_owners(&local, &env, server)?;
        Ok(Server {
            port: local.port,
            _process: server,
        })
    })();
    step.detail = "init script: users, databases, PostGIS, second run changes nothing; start.sh on that data sets the Secret's passwords (old ones refused); owners' planted format(text, text) (public, \"$user\" schema, database search_path) not run by start.sh's superuser session: no owner became superuser".into();
    keep_running(result, step)
}

/// The security review's N1, as it was run: each database's owner plants the function a
/// superuser session would pick for `format('...', :'user')` (an exact `format(text, text)`
/// beats `pg_catalog.format(text, VARIADIC "any")`) in `public`, in a schema named after the
/// superuser (the default search path's `"$user"`), and names `public` first in the database's
/// search path. The function makes its owner superuser and records who ran it. A restart runs
/// start.sh, and with it 10-geonode.sh, as the superuser in both databases: afterwards no owner
/// may be superuser and nobody may have run the function. The planted objects are then removed.
fn owners_stay_owners(local: &Local, env: &Env, server: Running) -> Result<Running, String> {
    for (db, user, password) in DATABASE_VARIABLES {
        let (db, owner) = (&env[db], &env[user]);
        let plant = format!(
            "create table public.n1_trap(run_by name);
             create schema \"{superuser}\";
             alter database \"{db}\" set search_path = public, \"$user\", pg_catalog;
             {functions}",
            superuser = env["POSTGRES_USER"],
            functions = [
                "public".to_string(),
                format!("\"{}\"", env["POSTGRES_USER"])
            ]
            .map(|schema| format!(
                "create function {schema}.format(text, text) returns text language plpgsql as $f$
                     begin
                       insert into public.n1_trap values (current_user);
                       execute 'alter role \"{owner}\" superuser';
                       return pg_catalog.format($1, variadic array[$2]);
                     end $f$;"
            ))
            .join("\n"),
        );
        local
            .psql(owner, &env[password], db, &plant)
            .map_err(|e| format!("{owner} could not plant the functions in {db}: {e}"))?;
    }
    local.stop(server)?;
    let server = start_container(&mut local.start_script(env)?, "postgresql", local.port)?;
    let superuser = |sql: &str| local.psql("postgres", &env["POSTGRES_PASSWORD"], "postgres", sql);
    let elevated = superuser(
        "select coalesce(string_agg(rolname, ', '), '') from pg_roles where rolsuper and rolname <> current_user",
    )?;
    if !elevated.trim().is_empty() {
        return Err(format!(
            "after a restart, {} became superuser: start.sh's superuser session ran a function a database owner planted",
            elevated.trim()
        ));
    }
    for (db, user, password) in DATABASE_VARIABLES {
        let (db, owner) = (&env[db], &env[user]);
        let run_by = local.psql(
            owner,
            &env[password],
            db,
            "select count(*) from public.n1_trap",
        )?;
        if run_by.trim() != "0" {
            return Err(format!(
                "start.sh's superuser session ran the function {owner} planted in {db} ({} times)",
                run_by.trim()
            ));
        }
        local.psql(
            owner,
            &env[password],
            db,
            &format!(
                "drop table public.n1_trap; drop function public.format(text, text);
                 drop schema \"{}\" cascade; alter database \"{db}\" reset search_path;",
                env["POSTGRES_USER"]
            ),
        )?;
    }
    Ok(server)
}

/// The same variables with every password changed.
fn older_passwords(env: &Env) -> Env {
    let mut old = env.clone();
    for (key, value) in old.iter_mut() {
        if key.ends_with("PASSWORD") {
            *value = format!("older-{value}");
        }
    }
    old
}

/// A PostgreSQL cluster of this run: its folder, data directory and port.
pub(super) struct Local {
    pub dir: PathBuf,
    pub data: PathBuf,
    pub port: u16,
}

impl Local {
    pub(super) fn new(dir: PathBuf) -> Result<Local, String> {
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        exec(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        Ok(Local {
            data: dir.join("data"),
            port: free_port()?,
            dir,
        })
    }

    /// Stops the server of this cluster (`pg_ctl stop`) and lets its process go.
    pub(super) fn stop(&self, server: Running) -> Result<(), String> {
        exec(
            Self::as_postgres(&format!("{BIN}/pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "fast", "-w", "stop"]),
        )?;
        drop(server);
        Ok(())
    }

    pub(super) fn as_postgres(program: &str) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", program]);
        cmd
    }

    pub(super) fn initdb(&self, superuser_password: &str) -> Result<(), String> {
        self.initdb_with(superuser_password, &["-A", "scram-sha-256"])
    }

    /// initdb as the image's entrypoint runs it (docker-library/postgres docker-entrypoint.sh,
    /// docker_init_database_dir and pg_setup_hba_conf): initdb's defaults, local connections
    /// trusted, then `host all all all scram-sha-256` appended.
    pub(super) fn initdb_as_the_image(&self, superuser_password: &str) -> Result<(), String> {
        self.initdb_with(superuser_password, &[])?;
        let hba = self.data.join("pg_hba.conf");
        let text =
            fs::read_to_string(&hba).map_err(|e| format!("reading {}: {e}", hba.display()))?;
        fs::write(&hba, format!("{text}\nhost all all all scram-sha-256\n"))
            .map_err(|e| e.to_string())
    }

    fn initdb_with(&self, superuser_password: &str, auth: &[&str]) -> Result<(), String> {
        let password_file = self.dir.join("pwfile");
        fs::write(&password_file, superuser_password).map_err(|e| e.to_string())?;
        exec(
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&password_file),
        )?;
        exec(
            Self::as_postgres(&format!("{BIN}/initdb"))
                .arg("-D")
                .arg(&self.data)
                .args(["-U", "postgres"])
                .args(auth)
                .arg(format!("--pwfile={}", password_file.display())),
        )?;
        fs::remove_file(&password_file).map_err(|e| e.to_string())
    }

    /// The server's arguments as the image's entrypoint passes them on, on this run's port.
    fn server_args(&self) -> Vec<String> {
        let port = self.port.to_string();
        let args = ["-p", &port, "-c", "listen_addresses=127.0.0.1", "-k"];
        let mut all: Vec<String> = vec!["-D".into(), self.data.display().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        all.push(self.dir.display().to_string());
        all
    }

    pub(super) fn postgres(&self) -> Command {
        let mut cmd = Self::as_postgres(&format!("{BIN}/postgres"));
        cmd.args(self.server_args());
        cmd
    }

    /// start.sh as the container runs it, with PGDATA this run's directory. Its last step is
    /// the image's entrypoint, which on an existing directory only execs its arguments (the
    /// image is on no registry here): a two-line stand-in does that.
    fn start_script(&self, env: &Env) -> Result<Command, String> {
        let shims = self.dir.join("bin");
        fs::create_dir_all(&shims).map_err(|e| e.to_string())?;
        let entrypoint = shims.join("docker-entrypoint.sh");
        fs::write(&entrypoint, "#!/bin/sh\nexec \"$@\"\n").map_err(|e| e.to_string())?;
        chmod(&entrypoint, 0o755).map_err(|e| e.to_string())?;
        let path = format!(
            "{}:{BIN}:{}",
            shims.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", "env", &format!("PATH={path}")]);
        // The rendered env names the container's PGDATA: this run's directory replaces it.
        cmd.args(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.arg(format!("PGDATA={}", self.data.display()));
        cmd.arg("sh").arg(self.dir.join("start.sh"));
        cmd.arg(format!("{BIN}/postgres")).args(self.server_args());
        Ok(cmd)
    }

    pub(super) fn init(&self, env: &Env) -> Result<String, String> {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", "sh"])
            .arg(self.dir.join("10-geonode.sh"));
        cmd.envs(env)
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGPASSWORD", &env["POSTGRES_PASSWORD"]);
        exec(&mut cmd)
    }

    pub(super) fn psql(
        &self,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
    ) -> Result<String, String> {
        psql(self.port, user, password, db, sql)
    }

    fn snapshot(&self, env: &Env) -> Result<String, String> {
        self.psql("postgres", &env["POSTGRES_PASSWORD"], "postgres",
            "select string_agg(rolname || ':' || rolcanlogin, ',' order by rolname) from pg_roles where rolname not like 'pg\\_%'; \
             select string_agg(datname || ':' || pg_get_userbyid(datdba), ',' order by datname) from pg_database;")
    }

    /// The superuser and both owners log in with these passwords; each owner has PostGIS and
    /// may create a table.
    fn check_logins(&self, env: &Env) -> Result<(), String> {
        self.psql(
            "postgres",
            &env["POSTGRES_PASSWORD"],
            "postgres",
            "select 1",
        )
        .map_err(|e| format!("the superuser cannot log in: {e}"))?;
        for (db, user, password) in DATABASE_VARIABLES {
            let out = self
                .psql(&env[user], &env[password], &env[db],
                    "select extversion from pg_extension where extname = 'postgis'; create table contract_check(id int); drop table contract_check;")
                .map_err(|e| format!("{} cannot log in to {} and create a table: {e}", env[user], env[db]))?;
            if !out.lines().next().is_some_and(|v| v.starts_with('3')) {
                return Err(format!("database {} has no PostGIS: {out}", env[db]));
            }
        }
        Ok(())
    }
}

/// psql on the server at 127.0.0.1:`port` as `user`: the output of `sql`.
pub(super) fn psql(
    port: u16,
    user: &str,
    password: &str,
    db: &str,
    sql: &str,
) -> Result<String, String> {
    let port = port.to_string();
    let mut cmd = Command::new("psql");
    cmd.args([
        "-X",
        "-At",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-U",
        user,
        "-d",
        db,
    ])
    .arg("-c")
    .arg(sql)
    .env("PGPASSWORD", password);
    exec(&mut cmd)
}

/// A database owned by `owner`, with PostGIS, as the chart's init script (or a prepared external
/// server) leaves it; made by the superuser.
pub(super) fn create_owned_database(
    port: u16,
    superuser_password: &str,
    db: &str,
    owner: &str,
) -> Result<(), String> {
    psql(
        port,
        "postgres",
        superuser_password,
        "postgres",
        &format!("create database \"{db}\" owner \"{owner}\""),
    )?;
    psql(
        port,
        "postgres",
        superuser_password,
        db,
        "create extension postgis",
    )
    .map(drop)
}
