//! PostgreSQL's JDBC driver, which GeoServer's GeoFence connects with: fetched once from Maven
//! Central (sha256-checked) into the tool cache, and driven by a Java program of a few lines
//! that connects with a JDBC URL and says whether the connection uses TLS.

use crate::error::{Context, Error};
use crate::process::{exec, maven_copy};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A 42.7 release, the line GeoServer 2.28 ships (its exact patch release is not checked here).
const VERSION: &str = "42.7.7";
const SHA256: &str = "157963d60ae66d607e09466e8c0cdf8087e9cb20d0159899ffca96bca2528460";

/// The password comes from the environment, never from the command line.
const CHECK_JAVA: &str = r#"
import java.sql.*;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], args[1], System.getenv("JDBC_CHECK_PASSWORD"));
             ResultSet r = c.createStatement().executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
            r.next();
            System.out.println("ssl=" + r.getBoolean(1));
        }
    }
}
"#;

/// GeoFence's JDBC URL with postgresql.external.tls, as GeoServer's start script writes it from
/// its container's env: geoserver-start checks the script writes this, database-tls that the
/// driver connects with it.
pub fn geofence_tls_url(
    host: &str,
    port: &str,
    database: &str,
    sslmode: &str,
    root: &str,
) -> String {
    format!("jdbc:postgresql://{host}:{port}/{database}?sslmode={sslmode}&sslrootcert={root}")
}

/// The driver's jar in the tool cache.
pub fn ensure() -> Result<PathBuf, Error> {
    let (cache, _lock) = crate::tools::lock_cache()?;
    let dir = cache.join(format!("pgjdbc-{VERSION}"));
    let jar = dir.join(format!("postgresql-{VERSION}.jar"));
    if jar.is_file() && crate::tools::verify_sha256(&jar, SHA256).is_ok() {
        return Ok(jar);
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    maven_copy(
        &format!("org.postgresql:postgresql:{VERSION}"),
        &dir,
        &format!("postgresql-{VERSION}.jar"),
        SHA256,
    )
}

/// Connects with `url`: Ok("ssl=true"/"ssl=false"), or the driver's error.
pub fn connect(
    jar: &Path,
    work: &Path,
    url: &str,
    user: &str,
    password: &str,
) -> Result<String, String> {
    let source = work.join("JdbcCheck.java");
    fs::write(&source, CHECK_JAVA).map_err(|e| e.to_string())?;
    exec(
        Command::new("java")
            .arg("-cp")
            .arg(jar)
            .arg(&source)
            .args([url, user])
            .env("JDBC_CHECK_PASSWORD", password),
    )
    .map(|out| out.trim().to_string())
}
