//! The OAuth server's memory, in one SQLite file in the data directory: registered clients,
//! authorization codes, grants (one per consent: the family of tokens it begot) and tokens.
//! Codes and tokens are kept as SHA-256 digests only, so the file holds nothing a client could
//! present; everything survives a restart.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::pkce;

/// The store's file name in the data directory.
pub const DEFAULT_FILE: &str = "mcp-oauth.sqlite3";

/// A client the server knows: registered (RFC 7591) or described by its metadata document.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// The name it gave itself (shown on the consent page, unverified).
    pub name: String,
    /// Where codes may be sent.
    pub redirect_uris: Vec<String>,
    /// When it was registered or its document fetched (unix seconds).
    pub fetched: i64,
}

/// A code, as issued.
#[derive(Debug, Clone)]
pub struct Code {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it went to.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub challenge: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The audience of the tokens it may become.
    pub resource: String,
}

/// What presenting a code gives.
#[derive(Debug)]
pub enum CodeUse {
    /// First use, within its lifetime: the code (now spent).
    Fresh(Code),
    /// Spent already: the grant it begot (now to be revoked), if any.
    Reused(Option<String>),
    /// Unknown or expired.
    Invalid,
}

/// A live access token.
#[derive(Debug, Clone)]
pub struct Access {
    /// Its grant's id.
    pub grant_id: String,
    /// Its scopes.
    pub scope: String,
    /// Its audience.
    pub resource: String,
}

/// A grant, for refreshing.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The scopes consented to.
    pub scope: String,
    /// The audience.
    pub resource: String,
}

/// What presenting a refresh token gives.
#[derive(Debug)]
pub enum RefreshUse {
    /// Valid: the grant; the token presented is now rotated out.
    Valid(Grant),
    /// A rotated-out token presented again: its whole grant is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// A pair of new tokens.
#[derive(Debug)]
pub struct Issued {
    /// The access token (only ever in the response).
    pub access: String,
    /// The refresh token (only ever in the response).
    pub refresh: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// One grant as `voipms mcp tokens list` shows it: never a token.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Grant id.
    pub id: String,
    /// Client name.
    pub client: String,
    /// Scopes.
    pub scope: String,
    /// Created (unix seconds).
    pub created: i64,
    /// When its last live token expires (unix seconds).
    pub expires: i64,
    /// When one of its tokens was last presented (unix seconds).
    pub last_used: Option<i64>,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, redirect_uris TEXT NOT NULL,
    created INTEGER NOT NULL, fetched INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
    hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    challenge TEXT NOT NULL, scope TEXT NOT NULL, resource TEXT NOT NULL,
    expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, grant_id TEXT);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, client_name TEXT NOT NULL,
    scope TEXT NOT NULL, resource TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, kind TEXT NOT NULL, scope TEXT NOT NULL,
    created INTEGER NOT NULL, expires INTEGER NOT NULL, last_used INTEGER, revoked INTEGER);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens(grant_id);
";

fn db_err(path: &Path, e: &rusqlite::Error) -> String {
    format!("the OAuth store {}: {e}", path.display())
}

impl Store {
    /// Opens (creating it, readable by the owner only) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let conn = Connection::open(path).map_err(|e| db_err(path, &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(|e| db_err(path, &e))?;
        let store = Store {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        };
        store.sweep()?;
        Ok(store)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| "the OAuth store's lock is poisoned".to_owned())?;
        f(&mut conn).map_err(|e| db_err(&self.path, &e))
    }

    /// Drops spent or expired codes and tokens long past their expiry.
    pub fn sweep(&self) -> Result<(), String> {
        let t = now();
        self.with(|c| {
            c.execute("DELETE FROM codes WHERE expires < ?1", [t - 3600])?;
            c.execute("DELETE FROM tokens WHERE expires < ?1", [t - 86_400])?;
            Ok(())
        })
    }

    /// Saves (or refreshes) a client.
    pub fn put_client(&self, client: &Client) -> Result<(), String> {
        let uris = serde_json::to_string(&client.redirect_uris).unwrap_or_else(|_| "[]".into());
        self.with(|c| {
            c.execute(
                "INSERT INTO clients (id, name, redirect_uris, created, fetched)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT(id) DO UPDATE SET name = ?2, redirect_uris = ?3, fetched = ?4",
                params![client.id, client.name, uris, client.fetched],
            )?;
            Ok(())
        })
    }

    /// A client by id.
    pub fn client(&self, id: &str) -> Result<Option<Client>, String> {
        self.with(|c| {
            c.query_row(
                "SELECT id, name, redirect_uris, fetched FROM clients WHERE id = ?1",
                [id],
                |r| {
                    let uris: String = r.get(2)?;
                    Ok(Client {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        redirect_uris: serde_json::from_str(&uris).unwrap_or_default(),
                        fetched: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// How many clients are registered.
    pub fn client_count(&self) -> Result<i64, String> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0)))
    }

    /// Issues a code valid for `ttl` seconds; returns it (the store keeps its digest).
    pub fn issue_code(&self, code: &Code, ttl: i64) -> Result<String, String> {
        let secret = pkce::secret("");
        let hash = pkce::digest(&secret);
        self.with(|c| {
            c.execute(
                "INSERT INTO codes (hash, client_id, redirect_uri, challenge, scope, resource, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    hash,
                    code.client_id,
                    code.redirect_uri,
                    code.challenge,
                    code.scope,
                    code.resource,
                    now() + ttl
                ],
            )?;
            Ok(())
        })?;
        Ok(secret)
    }

    /// Spends a code (whatever happens next, it cannot be presented twice).
    pub fn use_code(&self, code: &str) -> Result<CodeUse, String> {
        let hash = pkce::digest(code);
        self.with(|c| {
            let tx = c.transaction()?;
            let row = tx
                .query_row(
                    "SELECT client_id, redirect_uri, challenge, scope, resource, expires, used, grant_id
                     FROM codes WHERE hash = ?1",
                    [&hash],
                    |r| {
                        Ok((
                            Code {
                                client_id: r.get(0)?,
                                redirect_uri: r.get(1)?,
                                challenge: r.get(2)?,
                                scope: r.get(3)?,
                                resource: r.get(4)?,
                            },
                            r.get::<_, i64>(5)?,
                            r.get::<_, i64>(6)?,
                            r.get::<_, Option<String>>(7)?,
                        ))
                    },
                )
                .optional()?;
            let out = match row {
                None => CodeUse::Invalid,
                Some((_, _, used, grant)) if used != 0 => CodeUse::Reused(grant),
                Some((code, expires, _, _)) => {
                    tx.execute("UPDATE codes SET used = 1 WHERE hash = ?1", [&hash])?;
                    if expires < now() {
                        CodeUse::Invalid
                    } else {
                        CodeUse::Fresh(code)
                    }
                }
            };
            tx.commit()?;
            Ok(out)
        })
    }

    /// Records the grant a code begot (so a second use of the code revokes it).
    pub fn link_code(&self, code: &str, grant_id: &str) -> Result<(), String> {
        let hash = pkce::digest(code);
        self.with(|c| {
            c.execute(
                "UPDATE codes SET grant_id = ?2 WHERE hash = ?1",
                params![hash, grant_id],
            )?;
            Ok(())
        })
    }

    /// A new grant for `client`.
    pub fn create_grant(
        &self,
        client: &Client,
        scope: &str,
        resource: &str,
    ) -> Result<String, String> {
        let id = pkce::id();
        self.with(|c| {
            c.execute(
                "INSERT INTO grants (id, client_id, client_name, scope, resource, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, client.id, client.name, scope, resource, now()],
            )?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Issues an access token (`access_ttl` seconds) and a refresh token (`refresh_ttl`) in `grant`.
    pub fn issue_tokens(
        &self,
        grant_id: &str,
        scope: &str,
        access_ttl: i64,
        refresh_ttl: i64,
    ) -> Result<Issued, String> {
        let access = pkce::secret("voipms_at_");
        let refresh = pkce::secret("voipms_rt_");
        let t = now();
        self.with(|c| {
            let tx = c.transaction()?;
            for (secret, kind, ttl) in [
                (&access, "access", access_ttl),
                (&refresh, "refresh", refresh_ttl),
            ] {
                tx.execute(
                    "INSERT INTO tokens (hash, grant_id, kind, scope, created, expires)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![pkce::digest(secret), grant_id, kind, scope, t, t + ttl],
                )?;
            }
            tx.commit()
        })?;
        Ok(Issued {
            access,
            refresh,
            expires_in: access_ttl,
        })
    }

    /// The live access token `token`, if it is one (its use is recorded, at most once a minute).
    pub fn access(&self, token: &str) -> Result<Option<Access>, String> {
        let hash = pkce::digest(token);
        let t = now();
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT t.grant_id, t.scope, g.resource, t.last_used FROM tokens t
                     JOIN grants g ON g.id = t.grant_id
                     WHERE t.hash = ?1 AND t.kind = 'access' AND t.revoked IS NULL
                       AND g.revoked IS NULL AND t.expires > ?2",
                    params![hash, t],
                    |r| {
                        Ok((
                            Access {
                                grant_id: r.get(0)?,
                                scope: r.get(1)?,
                                resource: r.get(2)?,
                            },
                            r.get::<_, Option<i64>>(3)?,
                        ))
                    },
                )
                .optional()?;
            Ok(row.map(|(access, last)| {
                if last.is_none_or(|l| l < t - 60) {
                    let _ = c.execute(
                        "UPDATE tokens SET last_used = ?2 WHERE hash = ?1",
                        params![hash, t],
                    );
                }
                access
            }))
        })
    }

    /// Presents a refresh token: rotates it out, or, when it was rotated out already, revokes its
    /// whole grant (someone holds a copy).
    pub fn use_refresh(&self, token: &str) -> Result<RefreshUse, String> {
        let hash = pkce::digest(token);
        let t = now();
        self.with(|c| {
            let tx = c.transaction()?;
            let row = tx
                .query_row(
                    "SELECT g.id, g.client_id, g.scope, g.resource, t.expires, t.revoked, g.revoked
                     FROM tokens t JOIN grants g ON g.id = t.grant_id
                     WHERE t.hash = ?1 AND t.kind = 'refresh'",
                    [&hash],
                    |r| {
                        Ok((
                            Grant {
                                id: r.get(0)?,
                                client_id: r.get(1)?,
                                scope: r.get(2)?,
                                resource: r.get(3)?,
                            },
                            r.get::<_, i64>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                        ))
                    },
                )
                .optional()?;
            let out = match row {
                None => RefreshUse::Invalid,
                Some((_, _, _, Some(_))) => RefreshUse::Invalid,
                Some((grant, _, Some(_), None)) => {
                    revoke_grant_in(&tx, &grant.id, t)?;
                    RefreshUse::Reused
                }
                Some((_, expires, None, None)) if expires <= t => RefreshUse::Invalid,
                Some((grant, _, None, None)) => {
                    tx.execute(
                        "UPDATE tokens SET revoked = ?2, last_used = ?2 WHERE hash = ?1",
                        params![hash, t],
                    )?;
                    RefreshUse::Valid(grant)
                }
            };
            tx.commit()?;
            Ok(out)
        })
    }

    /// Revokes one token (RFC 7009): a refresh token takes its grant with it.
    pub fn revoke_token(&self, token: &str) -> Result<(), String> {
        let hash = pkce::digest(token);
        let t = now();
        self.with(|c| {
            let tx = c.transaction()?;
            let row: Option<(String, String)> = tx
                .query_row(
                    "SELECT grant_id, kind FROM tokens WHERE hash = ?1",
                    [&hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match row {
                Some((grant, kind)) if kind == "refresh" => revoke_grant_in(&tx, &grant, t)?,
                Some(_) => {
                    tx.execute(
                        "UPDATE tokens SET revoked = ?2 WHERE hash = ?1 AND revoked IS NULL",
                        params![hash, t],
                    )?;
                }
                None => {}
            }
            tx.commit()
        })
    }

    /// Revokes a grant (and every token of it).
    pub fn revoke_grant(&self, id: &str) -> Result<(), String> {
        let t = now();
        self.with(|c| {
            let tx = c.transaction()?;
            revoke_grant_in(&tx, id, t)?;
            tx.commit()
        })
    }

    /// The grants with a live token, newest first.
    pub fn list(&self) -> Result<Vec<Listed>, String> {
        let t = now();
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT g.id, g.client_name, g.scope, g.created, MAX(t.expires), MAX(t.last_used)
                 FROM grants g JOIN tokens t ON t.grant_id = g.id
                 WHERE g.revoked IS NULL
                 GROUP BY g.id
                 HAVING MAX(CASE WHEN t.revoked IS NULL AND t.expires > ?1 THEN 1 ELSE 0 END) = 1
                 ORDER BY g.created DESC, g.rowid DESC",
            )?;
            let rows = st.query_map([t], |r| {
                Ok(Listed {
                    id: r.get(0)?,
                    client: r.get(1)?,
                    scope: r.get(2)?,
                    created: r.get(3)?,
                    expires: r.get(4)?,
                    last_used: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Revokes the live grant whose id starts with `prefix` (at least 4 characters, unique).
    pub fn revoke_prefix(&self, prefix: &str) -> Result<Listed, String> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "`{prefix}` is not a grant id: give the ID column of `voipms mcp tokens list` \
                 (4 characters or more)"
            ));
        }
        let found: Vec<Listed> = self
            .list()?
            .into_iter()
            .filter(|g| g.id.starts_with(&prefix))
            .collect();
        match found.as_slice() {
            [one] => {
                self.revoke_grant(&one.id)?;
                Ok(one.clone())
            }
            [] => Err(format!(
                "no live grant has an id starting with `{prefix}`; `voipms mcp tokens list` shows them"
            )),
            _ => Err(format!(
                "{} grants have ids starting with `{prefix}`: give more characters",
                found.len()
            )),
        }
    }

    /// Revokes every grant; returns how many were live.
    pub fn revoke_all(&self) -> Result<usize, String> {
        let live = self.list()?;
        let t = now();
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("UPDATE grants SET revoked = ?1 WHERE revoked IS NULL", [t])?;
            tx.execute("UPDATE tokens SET revoked = ?1 WHERE revoked IS NULL", [t])?;
            tx.commit()
        })?;
        Ok(live.len())
    }
}

fn revoke_grant_in(tx: &rusqlite::Transaction<'_>, id: &str, t: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE grants SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
        params![id, t],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked = ?2 WHERE grant_id = ?1 AND revoked IS NULL",
        params![id, t],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (Store, PathBuf) {
        let p = std::env::temp_dir().join(format!(
            "voipms-oauth-store-{}-{}",
            std::process::id(),
            pkce::id()
        ));
        (Store::open(&p).unwrap(), p)
    }

    fn client() -> Client {
        Client {
            id: "c1".into(),
            name: "Test".into(),
            redirect_uris: vec!["https://x.example/cb".into()],
            fetched: now(),
        }
    }

    #[test]
    fn codes_are_single_use_and_refresh_rotates() {
        let (s, p) = temp();
        s.put_client(&client()).unwrap();
        let code = Code {
            client_id: "c1".into(),
            redirect_uri: "https://x.example/cb".into(),
            challenge: "c".repeat(43),
            scope: "voipms:read".into(),
            resource: "http://r/mcp".into(),
        };
        let secret = s.issue_code(&code, 60).unwrap();
        assert!(matches!(s.use_code(&secret).unwrap(), CodeUse::Fresh(_)));
        let g = s
            .create_grant(&client(), "voipms:read", "http://r/mcp")
            .unwrap();
        s.link_code(&secret, &g).unwrap();
        assert!(matches!(s.use_code(&secret).unwrap(), CodeUse::Reused(Some(ref x)) if *x == g));
        let t = s.issue_tokens(&g, "voipms:read", 60, 600).unwrap();
        assert_eq!(s.access(&t.access).unwrap().unwrap().grant_id, g);
        assert!(matches!(
            s.use_refresh(&t.refresh).unwrap(),
            RefreshUse::Valid(_)
        ));
        let t2 = s.issue_tokens(&g, "voipms:read", 60, 600).unwrap();
        assert!(matches!(
            s.use_refresh(&t.refresh).unwrap(),
            RefreshUse::Reused
        ));
        assert!(s.access(&t2.access).unwrap().is_none());
        assert!(matches!(
            s.use_refresh(&t2.refresh).unwrap(),
            RefreshUse::Invalid
        ));
        let text = std::fs::read(&p).unwrap();
        for secret in [&secret, &t.access, &t.refresh, &t2.access] {
            assert!(!text.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
        let _ = std::fs::remove_file(p);
    }
}
