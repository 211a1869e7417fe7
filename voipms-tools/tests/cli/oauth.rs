//! `voipms mcp --http --oauth`: the built-in OAuth 2.1 authorization server, driven over raw
//! HTTP as a hosted client (and the owner's browser) would: metadata, registration, the consent
//! form, PKCE, codes, tokens, refresh rotation, audience, revocation, restarts, the `tokens`
//! command, and no secret anywhere in the output or the store.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Env, free_port};

const PASSPHRASE: &str = "Owner-S3ntinel-passphrase";
const VERIFIER: &str = "a-very-long-code-verifier-of-the-test-0123456789-abcdefghijklmnop";

/// A raw HTTP/1.1 exchange: status, headers (lower-case names), body.
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// The query parameters of the `Location` header.
    fn location(&self) -> HashMap<String, String> {
        let loc = self.header("location");
        assert!(
            !loc.is_empty(),
            "no Location: {} {}",
            self.status,
            self.body
        );
        let query = loc.split_once('?').map_or("", |(_, q)| q);
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), crate::support::form_decode(v)))
            .collect()
    }
}

fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        let mut out = Vec::new();
        loop {
            let i = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..i]).trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[i + 2..i + 2 + n]);
            rest.drain(..i + 4 + n);
        }
        rest = out;
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&rest).into_owned(),
    }
}

/// Percent-encodes a form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// A running `voipms --sandbox mcp --http … --oauth` with its stdout and stderr collected.
struct Server {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Server {
    fn start(env: &Env, port: u16, public_port: u16, extra: &[&str]) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let public = format!("http://127.0.0.1:{public_port}");
        let mut args = vec![
            "--sandbox",
            "mcp",
            "--http",
            &addr,
            "--stateless",
            "--oauth",
            "--public-url",
            &public,
        ];
        args.extend_from_slice(extra);
        let mut child = env
            .cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start voipms mcp --http");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    out.lock().unwrap().push_str(&line);
                    out.lock().unwrap().push('\n');
                }
            });
        }
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Server {
                    child,
                    port,
                    output,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited ({status}):\n{}", output.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not listen:\n{}", output.lock().unwrap());
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.output.lock().unwrap().clone()
    }

    fn get(&self, path: &str) -> Reply {
        http(self.port, "GET", path, &[], "")
    }

    fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        http(
            self.port,
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &form(pairs),
        )
    }

    fn register(&self, redirect: &str, name: &str) -> String {
        let r = http(
            self.port,
            "POST",
            "/register",
            &[("Content-Type", "application/json")],
            &json!({"redirect_uris": [redirect], "client_name": name,
                    "token_endpoint_auth_method": "none"})
            .to_string(),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["client_id"].as_str().unwrap().to_owned()
    }

    /// The authorization request's fields.
    fn ask(&self, client: &str, redirect: &str, scope: &str) -> Vec<(&'static str, String)> {
        vec![
            ("response_type", "code".into()),
            ("client_id", client.into()),
            ("redirect_uri", redirect.into()),
            ("code_challenge", challenge(VERIFIER)),
            ("code_challenge_method", "S256".into()),
            ("state", "st-123".into()),
            ("scope", scope.into()),
            ("resource", format!("http://127.0.0.1:{}/mcp", self.port)),
        ]
    }

    /// Answers the consent form with `passphrase`.
    fn consent(&self, ask: &[(&'static str, String)], passphrase: &str) -> Reply {
        let mut pairs: Vec<(&str, &str)> = ask.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("passphrase", passphrase));
        pairs.push(("action", "allow"));
        self.post_form("/authorize", &pairs)
    }

    /// A code, through the consent form.
    fn code(&self, client: &str, redirect: &str, scope: &str) -> String {
        let r = self.consent(&self.ask(client, redirect, scope), PASSPHRASE);
        assert_eq!(r.status, 302, "{}", r.body);
        let q = r.location();
        assert_eq!(q["state"], "st-123");
        assert_eq!(q["iss"], format!("http://127.0.0.1:{}", self.port));
        q["code"].clone()
    }

    fn exchange(&self, client: &str, redirect: &str, code: &str, verifier: &str) -> Reply {
        self.post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", client),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ],
        )
    }

    /// Access and refresh tokens, all the way from the consent form.
    fn tokens(&self, client: &str, redirect: &str, scope: &str) -> (String, String) {
        let code = self.code(client, redirect, scope);
        let r = self.exchange(client, redirect, &code, VERIFIER);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("cache-control"), "no-store");
        let t = r.json();
        assert_eq!(t["token_type"], "Bearer");
        (
            t["access_token"].as_str().unwrap().to_owned(),
            t["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    fn refresh(&self, refresh: &str) -> Reply {
        self.post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
    }

    /// `tools/list` with a bearer token: the tool names, or the HTTP status when refused.
    fn tools(&self, token: &str) -> Result<Vec<String>, (u16, String)> {
        let auth = format!("Bearer {token}");
        let r = http(
            self.port,
            "POST",
            "/mcp",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                ("Accept", "application/json, text/event-stream"),
                ("MCP-Protocol-Version", "2025-06-18"),
            ],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        );
        if r.status != 200 {
            return Err((r.status, r.header("www-authenticate").to_owned()));
        }
        Ok(r.json()["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect())
    }
}

fn oauth_env() -> Env {
    Env::new().var("VOIPMS_MCP_OWNER_PASSPHRASE", PASSPHRASE)
}

const REDIRECT: &str = "http://127.0.0.1:45555/callback";
const WRITE_TOOL: &str = "voipms_mark_number_as_spam";

#[test]
fn metadata_registration_and_the_consent_form() {
    let env = oauth_env();
    let port = free_port();
    let s = Server::start(&env, port, port, &[]);
    let base = format!("http://127.0.0.1:{port}");

    // The resource and its authorization server describe themselves.
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let m = s.get(path).json();
        assert_eq!(m["resource"], format!("{base}/mcp"));
        assert_eq!(m["authorization_servers"], json!([base]));
        assert_eq!(
            m["scopes_supported"],
            json!(["voipms:read", "voipms:write"])
        );
    }
    let m = s.get("/.well-known/oauth-authorization-server").json();
    assert_eq!(m["issuer"], base);
    assert_eq!(m["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(m["token_endpoint"], format!("{base}/token"));
    assert_eq!(m["registration_endpoint"], format!("{base}/register"));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["token_endpoint_auth_methods_supported"], json!(["none"]));
    assert_eq!(m["client_id_metadata_document_supported"], json!(true));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );

    // Without a token: 401 pointing at the metadata.
    let (status, challenge) = s.tools("").unwrap_err();
    assert_eq!(status, 401);
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{base}/.well-known/oauth-protected-resource\""
        )),
        "{challenge}"
    );
    assert_eq!(s.get("/health").json()["auth"], "oauth");

    // Registration: redirect URIs limited to https, loopback http and app schemes.
    for bad in [
        "http://evil.example/cb",
        "javascript:alert(1)",
        "https://x.example/cb#f",
    ] {
        let r = http(
            port,
            "POST",
            "/register",
            &[("Content-Type", "application/json")],
            &json!({"redirect_uris": [bad]}).to_string(),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_redirect_uri");
    }
    let r = http(port, "POST", "/register", &[("Content-Type", "application/json")],
        &json!({"redirect_uris": ["https://claude.ai/api/mcp/auth_callback", "cursor://anysphere.cursor-retrieval/oauth/callback"],
                "client_name": "Claude", "token_endpoint_auth_method": "client_secret_post"}).to_string());
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = r.json();
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert!(reg.get("client_secret").is_none());

    let client = s.register(REDIRECT, "Test <Agent>");
    let ask = s.ask(&client, REDIRECT, "voipms:read voipms:write");
    let query = form(
        &ask.iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );

    // The consent page names the client (escaped), the redirect URI and the scopes.
    let page = s.get(&format!("/authorize?{query}"));
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert!(page.body.contains("Test &lt;Agent&gt;"), "{}", page.body);
    assert!(page.body.contains(REDIRECT) && page.body.contains("voipms:write"));
    assert!(page.body.contains("name=\"passphrase\""));
    assert!(page.body.contains("name=\"grant\" value=\"read\""));

    // A redirect URI the client did not register: an error page, nothing sent anywhere.
    let other = query.replace(&enc(REDIRECT), &enc("http://127.0.0.1:45555/other"));
    let r = s.get(&format!("/authorize?{other}"));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_empty());
    let r = s.get(&format!(
        "/authorize?{}",
        query.replace("client_id=", "client_id=vc_nobody")
    ));
    assert_eq!(r.status, 400);

    // No PKCE, or plain PKCE: back to the client with an error.
    let no_pkce = query.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let q = s.get(&format!("/authorize?{no_pkce}")).location();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "st-123");
    // Another audience: invalid_target.
    let elsewhere = query.replace(&enc(&format!("{base}/mcp")), &enc("http://127.0.0.1:1/mcp"));
    assert_eq!(
        s.get(&format!("/authorize?{elsewhere}")).location()["error"],
        "invalid_target"
    );
    let bad_scope = query.replace("voipms%3Aread", "admin");
    assert_eq!(
        s.get(&format!("/authorize?{bad_scope}")).location()["error"],
        "invalid_scope"
    );

    // Deny: access_denied, no code.
    let mut pairs: Vec<(&str, &str)> = ask.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push(("action", "deny"));
    let q = s.post_form("/authorize", &pairs).location();
    assert_eq!(q["error"], "access_denied");
    assert!(!q.contains_key("code"));

    // A wrong passphrase: the form again (401), no code; five a minute, then 429.
    for _ in 0..5 {
        let r = s.consent(&ask, "not-the-passphrase");
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.header("location").is_empty());
        assert!(r.body.contains("not the owner passphrase"));
    }
    let r = s.consent(&ask, PASSPHRASE);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("location").is_empty());
    // Another client is not locked out by this one.
    let second = s.register(REDIRECT, "Second");
    assert!(!s.code(&second, REDIRECT, "").is_empty());

    let out = s.stop();
    assert!(!out.contains(PASSPHRASE), "{out}");
    assert!(out.contains("wrong owner passphrase"), "{out}");
}

#[test]
fn codes_tokens_refresh_audience_and_revocation() {
    let env = oauth_env();
    let port = free_port();
    let s = Server::start(&env, port, port, &[]);
    let client = s.register(REDIRECT, "Agent");
    let mut secrets: Vec<String> = Vec::new();

    // PKCE mismatch: invalid_grant, and the code is spent.
    let code = s.code(&client, REDIRECT, "");
    let wrong = "another-code-verifier-that-does-not-match-the-challenge-0123456789";
    let r = s.exchange(&client, REDIRECT, &code, wrong);
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        r.body
    );
    assert_eq!(
        s.exchange(&client, REDIRECT, &code, VERIFIER).json()["error"],
        "invalid_grant"
    );
    secrets.push(code);

    // Another client cannot use the code; a wrong audience is refused.
    let code = s.code(&client, REDIRECT, "");
    let other = s.register(REDIRECT, "Other");
    assert_eq!(
        s.exchange(&other, REDIRECT, &code, VERIFIER).json()["error"],
        "invalid_grant"
    );
    let code = s.code(&client, REDIRECT, "");
    let r = s.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client),
            ("code_verifier", VERIFIER),
            ("resource", "http://127.0.0.1:1/mcp"),
        ],
    );
    assert_eq!(r.json()["error"], "invalid_target");

    // The code flow; the token sees every tool.
    let code = s.code(&client, REDIRECT, "voipms:read voipms:write");
    let r = s.exchange(&client, REDIRECT, &code, VERIFIER);
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(t["scope"], "voipms:read voipms:write");
    assert_eq!(t["expires_in"], 3600);
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    assert!(s.tools(&access).unwrap().contains(&WRITE_TOOL.to_owned()));

    // The code again: refused, and the tokens it gave are revoked.
    assert_eq!(
        s.exchange(&client, REDIRECT, &code, VERIFIER).json()["error"],
        "invalid_grant"
    );
    assert_eq!(s.tools(&access).unwrap_err().0, 401);
    assert_eq!(s.refresh(&refresh).json()["error"], "invalid_grant");
    secrets.extend([code, access, refresh]);

    // A read-only grant sees the read-only tool set.
    let (read, read_refresh) = s.tokens(&client, REDIRECT, "voipms:read");
    let tools = s.tools(&read).unwrap();
    assert!(tools.contains(&"voipms_get_balance".to_owned()));
    assert!(!tools.contains(&WRITE_TOOL.to_owned()), "{tools:?}");
    // The owner may grant reading only, whatever the client asks for.
    let mut ask = s.ask(&client, REDIRECT, "voipms:read voipms:write");
    ask.push(("grant", "read".into()));
    let code = s.consent(&ask, PASSPHRASE).location()["code"].clone();
    let t = s.exchange(&client, REDIRECT, &code, VERIFIER).json();
    assert_eq!(t["scope"], "voipms:read", "{t}");
    let narrowed = t["access_token"].as_str().unwrap().to_owned();
    assert!(!s.tools(&narrowed).unwrap().contains(&WRITE_TOOL.to_owned()));
    secrets.extend([code, narrowed]);
    // A refresh cannot widen it.
    let r = s.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &read_refresh),
            ("scope", "voipms:write"),
        ],
    );
    assert_eq!(r.json()["error"], "invalid_scope", "{}", r.body);
    secrets.extend([read, read_refresh]);

    // Refresh rotation: a new pair; the old refresh token presented again revokes the family.
    let (a1, r1) = s.tokens(&client, REDIRECT, "");
    let r = s.refresh(&r1);
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    let (a2, r2) = (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert_ne!(r1, r2);
    assert!(s.tools(&a2).is_ok() && s.tools(&a1).is_ok());
    let r = s.refresh(&r1);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(s.tools(&a2).unwrap_err().0, 401);
    assert_eq!(s.refresh(&r2).json()["error"], "invalid_grant");
    let (_, header) = s.tools(&a2).unwrap_err();
    assert!(header.contains("error=\"invalid_token\""), "{header}");
    secrets.extend([a1, r1, a2, r2]);

    // RFC 7009 revocation.
    let (a3, r3) = s.tokens(&client, REDIRECT, "");
    assert_eq!(s.post_form("/revoke", &[("token", &a3)]).status, 200);
    assert_eq!(s.tools(&a3).unwrap_err().0, 401);
    assert_eq!(s.refresh(&r3).status, 200);
    assert_eq!(s.post_form("/revoke", &[("token", "nonsense")]).status, 200);

    // Tokens survive a restart; a server under another public URL does not take them.
    let (keep, keep_refresh) = s.tokens(&client, REDIRECT, "");
    let out = s.stop();
    let s = Server::start(&env, port, port, &[]);
    assert!(s.tools(&keep).is_ok());
    let out2 = s.stop();
    let elsewhere = free_port();
    let s = Server::start(&env, port, elsewhere, &["--allowed-host", "127.0.0.1"]);
    let (status, _) = s.tools(&keep).unwrap_err();
    assert_eq!(status, 401);
    let out3 = s.stop();
    secrets.extend([a3, r3, keep.clone(), keep_refresh]);

    // `voipms mcp tokens list|revoke`: grants, never tokens.
    let list = env.run(&["--format", "table", "mcp", "tokens", "list"]);
    list.code(0);
    assert!(list.stdout.starts_with("ID  "), "{}", list.stdout);
    assert!(
        list.stdout.contains("Agent") && list.stdout.contains("voipms:read"),
        "{}",
        list.stdout
    );
    let json_list = env.run(&["--format", "json", "mcp", "tokens", "list"]);
    let grants = json_list.code(0).json();
    let id = grants.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 8);
    let s = Server::start(&env, port, port, &[]);
    assert!(s.tools(&keep).is_ok());
    let newest = grants[0]["id"].as_str().unwrap().to_owned();
    env.run(&["mcp", "tokens", "revoke", &newest]).code(0);
    assert_eq!(s.tools(&keep).unwrap_err().0, 401);
    env.run(&["mcp", "tokens", "revoke", "zzzz"]).code(2);
    let all = env.run(&["mcp", "tokens", "revoke", "--all"]);
    all.code(0);
    let table = env.run(&["--format", "table", "mcp", "tokens", "list"]);
    assert!(table.stdout.contains("no live grants"), "{}", table.stdout);
    assert_eq!(env.run(&["mcp", "tokens", "list"]).json(), json!([]));
    let out4 = s.stop();

    // No secret in any output, nor in clear in the store.
    let store = std::fs::read(env.dir.join("data/voipms/mcp-oauth.sqlite3")).unwrap();
    let everything = format!(
        "{out}{out2}{out3}{out4}{}{}{}",
        list.stdout, json_list.stdout, all.stdout
    );
    for secret in secrets.iter().map(String::as_str).chain([PASSPHRASE]) {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
        assert!(
            !store.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the store"
        );
    }
}

#[test]
fn expired_tokens_and_client_metadata_documents() {
    // A client metadata document served from loopback.
    let doc_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let doc_port = doc_listener.local_addr().unwrap().port();
    let client_id = format!("http://127.0.0.1:{doc_port}/oauth/client.json");
    let doc = json!({"client_id": client_id, "client_name": "Document Client",
                     "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
    .to_string();
    std::thread::spawn(move || {
        for stream in doc_listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
                doc.len()
            );
        }
    });

    let env = oauth_env();
    let port = free_port();
    let s = Server::start(&env, port, port, &["--token-lifetime", "1"]);
    let ask = s.ask(&client_id, REDIRECT, "");
    let query = form(
        &ask.iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    let page = s.get(&format!("/authorize?{query}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Document Client"));
    let (access, refresh) = s.tokens(&client_id, REDIRECT, "");
    assert!(s.tools(&access).is_ok());

    // Expired: 401; the refresh token still gives a new one.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(s.tools(&access).unwrap_err().0, 401);
    let r = s.refresh(&refresh);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(s.tools(r.json()["access_token"].as_str().unwrap()).is_ok());

    // A document whose redirect URIs do not include the request's: refused.
    let r = s.get(&format!(
        "/authorize?{}",
        query.replace(&enc(REDIRECT), &enc("https://evil.example/cb"))
    ));
    assert_eq!(r.status, 400);
    s.stop();

    // Start-up checks: a short passphrase, a public URL that is plain http elsewhere, none.
    let short = Env::new().var("VOIPMS_MCP_OWNER_PASSPHRASE", "short");
    let none = Env::new();
    for (env, url, expected) in [
        (&short, "http://127.0.0.1:1", "shorter than 12"),
        (&env, "http://mcp.example.com", "must be https"),
        (
            &none,
            "https://mcp.example.com",
            "VOIPMS_MCP_OWNER_PASSPHRASE",
        ),
    ] {
        let args = [
            "--sandbox",
            "mcp",
            "--http",
            "127.0.0.1:0",
            "--oauth",
            "--public-url",
            url,
        ];
        let out = env.run(&args);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(expected), "{}", out.stderr);
    }
}
