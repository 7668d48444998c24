//! A Debian root filesystem as an image layer: mmdebstrap (minbase, bookworm, the host's apt
//! sources, no recommends) with the image's packages, its users made with the official image's
//! ids before any package's scripts run (so Debian's scripts find them and keep them), its files,
//! and commands run inside it at the end. The result is mmdebstrap's own tar, which is a valid
//! OCI layer as it is.

use crate::error::{Context, Error};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const SUITE: &str = "bookworm";

/// A user (and its primary group) as the official image has them.
pub struct User {
    pub name: &'static str,
    pub uid: u32,
    pub group: &'static str,
    pub gid: u32,
    pub home: &'static str,
}

/// A file of the image: where, its mode, its bytes.
pub struct File {
    pub path: String,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// A folder zipped into the image the way upstream ships it (`zip -r <zip> <folder>/` from its
/// parent, so the zip's one top folder is `folder`).
pub struct Zip {
    pub parent: PathBuf,
    pub folder: &'static str,
    pub path: &'static str,
}

pub struct Rootfs {
    pub packages: Vec<String>,
    pub users: Vec<User>,
    /// Folders to copy in whole: (folder on the host, where in the image).
    pub trees: Vec<(PathBuf, &'static str)>,
    pub files: Vec<File>,
    pub zips: Vec<Zip>,
    /// Shell commands run in the finished root (chroot), in order.
    pub commands: Vec<String>,
}

/// The host's apt sources (the files mmdebstrap pastes into the root's sources.list).
fn sources() -> Result<Vec<PathBuf>, Error> {
    let mut found: Vec<PathBuf> = fs::read_dir("/etc/apt/sources.list.d")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sources" || e == "list"))
                .collect()
        })
        .unwrap_or_default();
    let list = PathBuf::from("/etc/apt/sources.list");
    if fs::read_to_string(&list).is_ok_and(|t| t.lines().any(|l| l.starts_with("deb "))) {
        found.push(list);
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::msg(
            "no apt sources on this host (/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list): the node images are built from Debian's packages",
        ));
    }
    Ok(found)
}

impl Rootfs {
    /// Everything that decides the layer's content, for the cache key.
    pub fn key_text(&self) -> Result<String, Error> {
        let mut text = format!("{SUITE}\npackages {}\n", self.packages.join(" "));
        for source in sources()? {
            text.push_str(&fs::read_to_string(&source).unwrap_or_default());
        }
        text.push_str(&self.users_script());
        for (tree, target) in &self.trees {
            text.push_str(&format!("tree {target}\n"));
            for entry in crate::tools::tree_digest(tree)? {
                text.push_str(&entry);
                text.push('\n');
            }
        }
        for zip in &self.zips {
            text.push_str(&format!("zip {} of {}\n", zip.path, zip.folder));
            for entry in crate::tools::tree_digest(&zip.parent.join(zip.folder))? {
                text.push_str(&entry);
                text.push('\n');
            }
        }
        for file in &self.files {
            text.push_str(&format!(
                "file {} {:o} {}\n",
                file.path,
                file.mode,
                crate::tools::sha256_bytes(&file.bytes)
            ));
        }
        text.push_str(&self.commands.join("\n"));
        Ok(text)
    }

    /// Lines for passwd, group and shadow, for those not there yet.
    fn users_script(&self) -> String {
        let mut script = String::new();
        for u in &self.users {
            script.push_str(&format!(
                "grep -q '^{g}:' \"$1/etc/group\" || echo '{g}:x:{gid}:' >> \"$1/etc/group\"\n\
                 grep -q '^{n}:' \"$1/etc/passwd\" || echo '{n}:x:{uid}:{gid}::{home}:/bin/sh' >> \"$1/etc/passwd\"\n\
                 grep -q '^{n}:' \"$1/etc/shadow\" || echo '{n}:*:20000:0:99999:7:::' >> \"$1/etc/shadow\"\n",
                g = u.group,
                gid = u.gid,
                n = u.name,
                uid = u.uid,
                home = u.home,
            ));
        }
        script
    }

    /// Runs mmdebstrap into `out` (a tar).
    pub fn build(&self, out: &Path) -> Result<(), Error> {
        let staging = tempfile::tempdir().context("making a staging folder")?;
        for file in &self.files {
            let path = staging.path().join(file.path.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
            }
            fs::write(&path, &file.bytes).context(format!("writing {}", path.display()))?;
            crate::process::chmod(&path, file.mode)?;
        }
        for zip in &self.zips {
            let path = staging.path().join(zip.path.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
            }
            crate::process::exec(
                Command::new("zip")
                    .args(["-q", "-r", "-X"])
                    .arg(&path)
                    .arg(zip.folder)
                    .current_dir(&zip.parent),
            )
            .map_err(|e| Error::msg(format!("zipping {}: {e}", zip.folder)))?;
        }
        let mut cmd = Command::new("mmdebstrap");
        cmd.args([
            "--variant=minbase",
            "--mode=root",
            "--format=tar",
            // dpkg's fsyncs cost minutes and protect nothing here.
            "--dpkgopt=force-unsafe-io",
            "--aptopt=APT::Install-Recommends \"false\"",
        ]);
        if !self.packages.is_empty() {
            cmd.arg(format!("--include={}", self.packages.join(",")));
        }
        if !self.users.is_empty() {
            cmd.arg(format!("--essential-hook={}", self.users_script()));
        }
        for (tree, target) in &self.trees {
            cmd.arg(format!(
                "--customize-hook=mkdir -p \"$1{target}\" && cp -R '{}/.' \"$1{target}/\"",
                tree.display()
            ));
        }
        cmd.arg(format!(
            "--customize-hook=cp -R '{}/.' \"$1/\"",
            staging.path().display()
        ));
        for command in &self.commands {
            let quoted = command.replace('\'', r"'\''");
            cmd.arg(format!("--customize-hook=chroot \"$1\" sh -euc '{quoted}'"));
        }
        cmd.arg("--customize-hook=rm -rf \"$1\"/var/cache/apt/* \"$1\"/var/lib/apt/lists/* \"$1\"/tmp/*");
        cmd.arg(SUITE).arg(out).args(sources()?);
        // Its whole output beside the layer; the end of it in the error.
        let log_path = out.with_extension("log");
        let log =
            fs::File::create(&log_path).context(format!("creating {}", log_path.display()))?;
        let status = cmd
            .env("LC_ALL", "C.UTF-8")
            .stdout(log.try_clone().context("duplicating the log's handle")?)
            .stderr(log)
            .status()
            .context("running mmdebstrap (apt-get install mmdebstrap)")?;
        if status.success() {
            return Ok(());
        }
        let text = fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        Err(Error::msg(format!(
            "mmdebstrap failed ({status}); the end of {}:\n{}",
            log_path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_added_once_with_the_official_ids() {
        let rootfs = Rootfs {
            packages: Vec::new(),
            users: vec![User {
                name: "postgres",
                uid: 70,
                group: "postgres",
                gid: 70,
                home: "/var/lib/postgresql",
            }],
            trees: Vec::new(),
            files: Vec::new(),
            zips: Vec::new(),
            commands: Vec::new(),
        };
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        fs::create_dir_all(&etc).unwrap();
        for file in ["passwd", "group", "shadow"] {
            fs::write(etc.join(file), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        }
        for _ in 0..2 {
            let status = Command::new("sh")
                .arg("-c")
                .arg(rootfs.users_script())
                .arg("sh")
                .arg(root.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let passwd = fs::read_to_string(etc.join("passwd")).unwrap();
        assert_eq!(
            passwd
                .lines()
                .filter(|l| l.starts_with("postgres:"))
                .collect::<Vec<_>>(),
            ["postgres:x:70:70::/var/lib/postgresql:/bin/sh"]
        );
        let group = fs::read_to_string(etc.join("group")).unwrap();
        assert!(group.contains("postgres:x:70:\n"), "{group}");
    }
}
