//! Where credentials come from: the environment, or a TOML config file with named profiles.
//!
//! ```toml
//! # ~/.config/voipms/config.toml (chmod 600)
//! default_profile = "main"          # optional; else the profile named "default", or the only one
//!
//! [profiles.main]
//! username = "me@example.com"       # the e-mail you log in to the portal with
//! password = "api-password"         # the API password (not the portal password)
//! api_url = "https://proxy.example/api/v1/rest.php"   # optional
//! ```
//!
//! Order: `--profile NAME` (or `VOIPMS_PROFILE`) picks a profile of the file; otherwise
//! `VOIPMS_API_USERNAME` + `VOIPMS_API_PASSWORD` when set; otherwise the file's default profile.
//! The endpoint is `--api-url`, else `VOIPMS_API_URL`, else the profile's `api_url`, else VoIP.ms.

use std::fmt;
use std::path::{Path, PathBuf};

use voipms_sdk::{ENV_PASSWORD, ENV_URL, ENV_USERNAME};

use crate::core::exit::Failure;
use crate::core::secrets as output;

/// Environment variable naming the profile to use.
pub const ENV_PROFILE: &str = "VOIPMS_PROFILE";
/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "VOIPMS_CONFIG";

/// Where the credentials in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `VOIPMS_API_USERNAME` and `VOIPMS_API_PASSWORD`.
    Env,
    /// A profile of the config file.
    Profile {
        /// Profile name.
        name: String,
        /// Config file.
        path: PathBuf,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env => write!(f, "{ENV_USERNAME} and {ENV_PASSWORD}"),
            Source::Profile { name, path } => {
                write!(f, "profile `{name}` of {}", path.display())
            }
        }
    }
}

/// Credentials and endpoint of a real account. `Debug` hides the password.
#[derive(Clone)]
pub struct Account {
    /// API user name (portal login e-mail).
    pub username: String,
    /// API password.
    pub password: String,
    /// Endpoint override from the profile.
    pub api_url: Option<String>,
    /// Where they came from.
    pub source: Source,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("password", &output::MASK)
            .field("api_url", &self.api_url)
            .field("source", &self.source)
            .finish()
    }
}

/// The settings that decide which credentials to use.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The config file to read: `--config`, else `VOIPMS_CONFIG`, else `voipms/config.toml` in the
/// platform config directory.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| env_var(ENV_CONFIG).map(PathBuf::from))
        .or_else(|| dirs::config_dir().map(|d| d.join("voipms").join("config.toml")))
}

/// The directory for the sandbox's state: `voipms` in the platform data directory.
pub fn data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("voipms"))
}

/// The endpoint from `--api-url`, `VOIPMS_API_URL` or the profile, in that order.
/// A password in the URL's user-info is registered as a secret.
pub fn api_url(flag: Option<&str>, account: Option<&Account>) -> Option<String> {
    let url = flag
        .map(str::to_owned)
        .or_else(|| env_var(ENV_URL))
        .or_else(|| account.and_then(|a| a.api_url.clone()));
    if let Some(u) = &url {
        output::add_url_secret(u);
    }
    url
}

/// Finds the credentials to use; `Ok(None)` when none are configured anywhere.
pub fn resolve(lookup: &Lookup) -> Result<Option<Account>, Failure> {
    for name in [ENV_USERNAME, ENV_PASSWORD, ENV_URL, ENV_PROFILE] {
        if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
            let what = if name == ENV_PASSWORD {
                "the API password"
            } else {
                "its value"
            };
            return Err(Failure::config(format!(
                "{name} is set but is not valid UTF-8 text, so {what} cannot be used (a stray \
                 byte from a copy-paste or a terminal in another encoding?): set it again, e.g. \
                 `export {name}='…'`, or unset it"
            )));
        }
    }
    let profile = lookup.profile.clone().or_else(|| env_var(ENV_PROFILE));
    let explicit_file = lookup.config.is_some() || env_var(ENV_CONFIG).is_some();
    if profile.is_none() && !explicit_file {
        match (env_var(ENV_USERNAME), env_var(ENV_PASSWORD)) {
            (Some(username), Some(password)) => {
                output::add_secret(&password);
                return Ok(Some(Account {
                    username,
                    password,
                    api_url: None,
                    source: Source::Env,
                }));
            }
            (Some(_), None) => {
                return Err(Failure::config(format!(
                    "{ENV_USERNAME} is set but {ENV_PASSWORD} is not: set it to the API password \
                     from the portal's \"SOAP & REST/JSON API\" page (not the portal login password)"
                )));
            }
            (None, Some(_)) => {
                return Err(Failure::config(format!(
                    "{ENV_PASSWORD} is set but {ENV_USERNAME} is not: set it to the e-mail you \
                     log in to the VoIP.ms portal with"
                )));
            }
            (None, None) => {}
        }
    }
    let Some(path) = config_path(lookup.config.as_deref()) else {
        return Ok(None);
    };
    if !path.exists() {
        if explicit_file {
            return Err(Failure::config(format!(
                "the config file {} does not exist",
                path.display()
            )));
        }
        if let Some(p) = profile {
            return Err(Failure::config(format!(
                "profile `{p}` asked for, but there is no config file at {}. {}",
                path.display(),
                sample(&path, &p)
            )));
        }
        return Ok(None);
    }
    let file = ConfigFile::read(&path)?;
    file.account(profile.as_deref()).map(Some)
}

/// A parsed config file.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    default_profile: Option<String>,
    profiles: Vec<(String, toml::Table)>,
}

impl ConfigFile {
    /// Reads and checks the file (permissions first: it holds the API password).
    pub fn read(path: &Path) -> Result<ConfigFile, Failure> {
        check_permissions(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::config(format!(
                "cannot read the config file {}: {e}",
                path.display()
            ))
        })?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // The TOML error quotes the offending line, which may hold the password: keep only
            // the message and the position.
            let span = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            Failure::config(format!(
                "the config file {} is not valid TOML{span}: {}",
                path.display(),
                e.message()
            ))
        })?;
        let mut default_profile = None;
        let mut profiles = Vec::new();
        for (key, value) in table {
            match (key.as_str(), value) {
                ("default_profile", toml::Value::String(s)) => default_profile = Some(s),
                ("profiles", toml::Value::Table(t)) => {
                    for (name, v) in t {
                        match v {
                            toml::Value::Table(p) => profiles.push((name, p)),
                            _ => {
                                return Err(Failure::config(format!(
                                    "{}: `profiles.{name}` must be a table ([profiles.{name}])",
                                    path.display()
                                )));
                            }
                        }
                    }
                }
                (other, _) => {
                    return Err(Failure::config(format!(
                        "{}: unknown or malformed key `{other}`; the file has \
                         `default_profile = \"NAME\"` and [profiles.NAME] tables with username, \
                         password and api_url",
                        path.display()
                    )));
                }
            }
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            default_profile,
            profiles,
        })
    }

    /// Profile names, in file order.
    pub fn profile_names(&self) -> Vec<&str> {
        self.profiles.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The profile `wanted`, or the default one: its name and its table.
    pub fn profile(&self, wanted: Option<&str>) -> Result<(String, &toml::Table), Failure> {
        let names = self.profile_names().join(", ");
        let name = match wanted.or(self.default_profile.as_deref()) {
            Some(n) => n.to_owned(),
            None if self.profiles.iter().any(|(n, _)| n == "default") => "default".to_owned(),
            None if self.profiles.len() == 1 => self.profiles[0].0.clone(),
            None if self.profiles.is_empty() => {
                return Err(Failure::config(format!(
                    "the config file {} has no profile. {}",
                    self.path.display(),
                    sample(&self.path, "default")
                )));
            }
            None => {
                return Err(Failure::config(format!(
                    "the config file {} has several profiles ({names}) and no \
                     `default_profile`: pick one with --profile NAME or {ENV_PROFILE}",
                    self.path.display()
                )));
            }
        };
        let Some((_, table)) = self.profiles.iter().find(|(n, _)| *n == name) else {
            return Err(Failure::config(format!(
                "no profile `{name}` in {} (profiles: {})",
                self.path.display(),
                if names.is_empty() { "none" } else { &names }
            )));
        };
        Ok((name, table))
    }

    /// The credentials of `wanted`, or of the default profile.
    pub fn account(&self, wanted: Option<&str>) -> Result<Account, Failure> {
        let (name, table) = self.profile(wanted)?;
        let mut username = None;
        let mut password = None;
        let mut api_url = None;
        for (k, v) in table {
            // The transcription provider's settings (core::transcripts::provider).
            if k == "transcription" && v.is_table() {
                continue;
            }
            let text = match v {
                toml::Value::String(s) => s.clone(),
                _ => {
                    return Err(Failure::config(format!(
                        "{}: profiles.{name}.{k} must be a string",
                        self.path.display()
                    )));
                }
            };
            match k.as_str() {
                "username" => username = Some(text),
                "password" => password = Some(text),
                "api_url" => api_url = Some(text),
                other => {
                    return Err(Failure::config(format!(
                        "{}: unknown key `{other}` in [profiles.{name}] (known: username, \
                         password, api_url, [transcription])",
                        self.path.display()
                    )));
                }
            }
        }
        if let Some(p) = &password {
            output::add_secret(p);
        }
        let missing = |what: &str| {
            Failure::config(format!(
                "profile `{name}` of {} has no {what}. {}",
                self.path.display(),
                sample(&self.path, &name)
            ))
        };
        let username = username
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| missing("username"))?;
        let password = password
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing("password"))?;
        Ok(Account {
            username,
            password,
            api_url,
            source: Source::Profile {
                name,
                path: self.path.clone(),
            },
        })
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::config(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure::config(format!(
            "the config file {} can be read by other users (mode {mode:03o}) and it holds your API \
             password; it was not used. Fix: chmod 600 {}",
            path.display(),
            shell_quote(&path.display().to_string())
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), Failure> {
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+~".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A sample profile for `path`.
fn sample(path: &Path, profile: &str) -> String {
    format!(
        "Write it like this (then chmod 600 {}):\n\n    [profiles.{profile}]\n    username = \
         \"you@example.com\"\n    password = \"your-api-password\"\n",
        shell_quote(&path.display().to_string())
    )
}

/// The message for "no credentials anywhere": both ways to configure them, and the sandbox.
pub fn no_credentials_message(lookup: &Lookup) -> String {
    let path = config_path(lookup.config.as_deref())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the config file".to_owned());
    format!(
        "no VoIP.ms credentials are configured. Either:\n  \
         - set {ENV_USERNAME} (the e-mail you log in to the VoIP.ms portal with) and \
         {ENV_PASSWORD} (the API password from the portal's \"SOAP & REST/JSON API\" page, not the \
         portal login password), or\n  \
         - write them to {path} (then chmod 600 it):\n\n      [profiles.default]\n      \
         username = \"you@example.com\"\n      password = \"your-api-password\"\n\n\
         To try any command without an account, add --sandbox (a simulated account kept on this \
         machine), e.g. `voipms --sandbox getBalance`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        p
    }

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("voipms-config-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn profiles_and_defaults() {
        let dir = tempdir("profiles");
        let p = write(
            &dir,
            "a.toml",
            "default_profile = \"b\"\n[profiles.a]\nusername = \"a@x.y\"\npassword = \"pa\"\n\
             [profiles.b]\nusername = \"b@x.y\"\npassword = \"pb\"\napi_url = \"http://127.0.0.1:1/\"\n",
            0o600,
        );
        let f = ConfigFile::read(&p).unwrap();
        assert_eq!(f.profile_names(), ["a", "b"]);
        let b = f.account(None).unwrap();
        assert_eq!(b.username, "b@x.y");
        assert_eq!(b.api_url.as_deref(), Some("http://127.0.0.1:1/"));
        assert_eq!(f.account(Some("a")).unwrap().password, "pa");
        let e = f.account(Some("zz")).unwrap_err();
        assert!(e.message.contains("profiles: a, b"), "{}", e.message);
        assert!(!format!("{b:?}").contains("pb"));
    }

    #[test]
    fn bad_files_are_explained() {
        let dir = tempdir("bad");
        let p = write(&dir, "b.toml", "[profiles.x]\nusername = \"u\"\n", 0o600);
        let e = ConfigFile::read(&p).unwrap().account(None).unwrap_err();
        assert!(e.message.contains("has no password"), "{}", e.message);
        let p = write(&dir, "c.toml", "password = \"sekrit-value\" oops\n", 0o600);
        let e = ConfigFile::read(&p).unwrap_err();
        assert!(!e.message.contains("sekrit"), "{}", e.message);
        assert!(e.message.contains("line 1"), "{}", e.message);
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_file_is_refused() {
        let dir = tempdir("perm");
        let p = write(&dir, "d.toml", "[profiles.x]\n", 0o644);
        let e = ConfigFile::read(&p).unwrap_err();
        assert!(e.message.contains("chmod 600"), "{}", e.message);
        assert!(e.message.contains("644"), "{}", e.message);
    }
}
