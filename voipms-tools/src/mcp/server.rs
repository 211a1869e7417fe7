//! The MCP server: tools/list from the selected tool table, tools/call through argument
//! validation, the write gate, the helpers or the client, the audit log and redaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{Effect, Method};
use voipms_sdk::ops::may_have_applied;
use voipms_sdk::{DryRun, Params};

use crate::core::gate::{Gate, Permission, Verdict};
use crate::core::lock;
use crate::core::recorder;
use crate::core::secrets::{MASK, redact};
use crate::core::session::Session;
use crate::core::views;
use crate::mcp::audit::{Audit, Record, is_secret_name};
use crate::mcp::curated::{self, Args, Curated};
use crate::mcp::http::Principal;
use crate::mcp::method;
use crate::mcp::tools::{Kind, ToolDef, to_tool};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Changes of any kind are off.
    pub read_only: bool,
    /// Real writes are allowed (`--allow-writes`, or the sandbox).
    pub allow_writes: bool,
    /// Changes that spend money are allowed too (`--allow-billable`, or the sandbox).
    pub allow_billable: bool,
}

impl Policy {
    fn gate(&self, dry_run: bool) -> Gate {
        Gate {
            dry_run,
            read_only: self.read_only,
            writes: if self.allow_writes {
                Permission::Allowed
            } else {
                Permission::Refused(
                    "The server was started without --allow-writes; restart it with \
                     `voipms mcp --allow-writes` to make changes, or call with dry_run true to see the plan."
                        .to_owned(),
                )
            },
            billable: if self.allow_billable {
                Permission::Allowed
            } else {
                Permission::Refused(
                    "Calls that spend money need the server started with --allow-writes \
                     --allow-billable; call with dry_run true to see the plan."
                        .to_owned(),
                )
            },
        }
    }
}

/// The server's state, shared by every request.
#[derive(Debug)]
struct Inner {
    session: Session,
    tools: Vec<ToolDef>,
    listed: Vec<Tool>,
    index: HashMap<String, usize>,
    policy: Policy,
    audit: Option<Audit>,
    saving: tokio::sync::Mutex<()>,
    transcripts: curated::TranscriptAccess,
}

/// The `voipms` MCP server.
#[derive(Debug, Clone)]
pub struct VoipmsServer {
    inner: Arc<Inner>,
}

/// A tool's answer before it becomes an MCP result.
struct Answer {
    json: Value,
    text: String,
    audio: Option<(String, &'static str)>,
    error: bool,
}

impl Answer {
    fn ok(json: Value, text: impl Into<String>) -> Self {
        Answer {
            json,
            text: text.into(),
            audio: None,
            error: false,
        }
    }

    fn error(text: impl Into<String>) -> Self {
        let text = text.into();
        Answer {
            json: json!({"error": text}),
            text,
            audio: None,
            error: true,
        }
    }
}

impl VoipmsServer {
    /// A server over `session` offering `tools`.
    pub fn new(
        session: Session,
        tools: Vec<ToolDef>,
        policy: Policy,
        audit: Option<Audit>,
    ) -> Self {
        let listed: Vec<Tool> = tools.iter().map(to_tool).collect();
        let index = tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        VoipmsServer {
            inner: Arc::new(Inner {
                session,
                tools,
                listed,
                index,
                policy,
                audit,
                saving: tokio::sync::Mutex::new(()),
                transcripts: curated::TranscriptAccess::default(),
            }),
        }
    }

    /// The transcript store and provider the transcript tools use (before the server starts).
    pub fn with_transcripts(mut self, access: curated::TranscriptAccess) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.transcripts = access;
        }
        self
    }

    /// The tools offered, as `tools/list` gives them.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.listed
    }

    fn session(&self) -> &Session {
        &self.inner.session
    }

    /// Whether the server works on the simulated account.
    pub fn is_sandbox(&self) -> bool {
        self.inner.session.is_sandbox()
    }

    /// Runs one tool; `client` names the MCP client for the audit log.
    pub async fn call(
        &self,
        name: &str,
        args: Map<String, Value>,
        client: Option<(String, String)>,
        read_only: bool,
    ) -> Option<CallToolResult> {
        let def = self.inner.tools.get(*self.inner.index.get(name)?)?.clone();
        if read_only && def.is_mutating() {
            // Hidden from this client: as unknown as a tool that does not exist.
            return None;
        }
        let mut policy = self.inner.policy.clone();
        policy.read_only |= read_only;
        let policy = &policy;
        let started = Instant::now();
        let mut audit = AuditNote::default();
        let answer = match def.kind {
            Kind::Curated(id) => self.curated(&def, id, &args, policy, &mut audit).await,
            Kind::Method(m) => self.method(m, &args, policy, &mut audit).await,
            Kind::Search => search(&args),
            Kind::Describe => describe(&args),
            Kind::Call => self.call_method(&args, policy, &mut audit).await,
        };
        if audit.mutating {
            self.audit(Record {
                client,
                tool: def.name.clone(),
                arguments: args,
                dry_run: audit.dry_run,
                calls: audit.calls.take().unwrap_or_else(|| json!([])),
                outcome: audit.outcome,
                detail: if answer.error {
                    answer.text.clone()
                } else {
                    String::new()
                },
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
        }
        Some(result(answer))
    }

    fn audit(&self, record: Record) {
        if let Some(audit) = &self.inner.audit
            && let Err(e) = audit.write(&record)
        {
            tracing::error!(path = %audit.path().display(), "cannot write the audit log: {e}");
        }
    }

    /// The endpoint and user name shown in planned requests.
    fn identity(&self) -> (String, String) {
        let c = self.session().client();
        (c.base_url().to_owned(), c.username().to_owned())
    }

    /// The exact requests of planned calls (password masked).
    async fn record_planned(&self, dry: &DryRun) -> Vec<Value> {
        let (base_url, username) = self.identity();
        let mut out = Vec::new();
        for p in &dry.planned {
            let effect = voipms_sdk::catalog::method(p.method).map_or(Effect::Write, |m| m.effect);
            let mut call = views::call(p.method, &p.params, None);
            if let Ok(rec) =
                recorder::record(&base_url, &username, p.method, effect, &p.params).await
            {
                call["http_method"] = json!(rec.verb());
                call["encoding"] = json!(rec.encoding.as_str());
            }
            out.push(call);
        }
        out
    }

    /// The cross-process lock of a real account, taken off the async threads (it may wait).
    async fn account_lock(&self) -> Result<Option<lock::Held>, String> {
        if self.session().is_sandbox() {
            return Ok(None);
        }
        let (url, user) = self.identity();
        tokio::task::spawn_blocking(move || lock::account(&url, &user))
            .await
            .map_err(|e| format!("cannot take the account's lock: {e}"))?
            .map(Some)
            .map_err(|f| f.message)
    }

    async fn saved(&self) {
        if self.session().is_sandbox() {
            let _guard = self.inner.saving.lock().await;
            if let Err(e) = self.session().save() {
                tracing::error!("cannot save the sandbox's state: {}", e.message);
            }
        }
    }

    async fn curated(
        &self,
        def: &ToolDef,
        id: Curated,
        given: &Map<String, Value>,
        policy: &Policy,
        audit: &mut AuditNote,
    ) -> Answer {
        let spec = curated::spec(id);
        audit.mutating = spec.effect.is_mutating();
        let args = match Args::check(spec, given.clone()) {
            Ok(a) => a,
            Err(e) => {
                audit.outcome = "invalid";
                return Answer::error(format!("{}: {e}. Nothing was sent.", def.name));
            }
        };
        let client = self.session().client();
        if !spec.effect.is_mutating() {
            return match curated::read(id, &args, client, &self.inner.transcripts).await {
                Ok(out) => Answer {
                    json: out.json,
                    text: out.text,
                    audio: out.audio,
                    error: false,
                },
                Err(e) => Answer::error(e),
            };
        }
        audit.dry_run = args.dry_run();
        match policy.gate(args.dry_run()).decide(&def.name, spec.effect) {
            Verdict::DryRun => match curated::plan(id, &args, client).await {
                Ok(dry) => {
                    let would = self.record_planned(&dry).await;
                    audit.outcome = "dry_run";
                    audit.calls = Some(Value::Array(would.clone()));
                    let n = would.len();
                    let text = if n == 0 {
                        "Dry run: the account is already as asked; nothing would be sent."
                            .to_owned()
                    } else {
                        format!(
                            "Dry run: {n} change{} would be sent (none was). Call again with dry_run false to make {}.",
                            if n == 1 { "" } else { "s" },
                            if n == 1 { "it" } else { "them" }
                        )
                    };
                    let mut text = text;
                    for w in &dry.warnings {
                        text.push_str(" Warning: ");
                        text.push_str(w);
                    }
                    Answer::ok(
                        json!({
                            "dry_run": true,
                            "changed": false,
                            "changes": dry.changes_anything(),
                            "reads": views::calls(&dry.reads),
                            "would_send": would,
                            "warnings": dry.warnings,
                        }),
                        text,
                    )
                }
                Err(e) => {
                    audit.outcome = "error";
                    Answer::error(e)
                }
            },
            v @ (Verdict::Refuse(_) | Verdict::Confirm) => refused(v, audit),
            Verdict::Send => {
                // Serialised with every other voipms process changing this account.
                let _held = match self.account_lock().await {
                    Ok(h) => h,
                    Err(e) => {
                        audit.outcome = "error";
                        return Answer::error(e);
                    }
                };
                let outcome = curated::change(id, &args, client).await;
                self.saved().await;
                match outcome {
                    Ok(out) => {
                        audit.outcome = "ok";
                        audit.calls = out.json.get("calls").cloned();
                        Answer::ok(out.json, out.text)
                    }
                    Err(e) => {
                        audit.outcome = "error";
                        Answer::error(e)
                    }
                }
            }
        }
    }

    async fn method(
        &self,
        m: &'static Method,
        given: &Map<String, Value>,
        policy: &Policy,
        audit: &mut AuditNote,
    ) -> Answer {
        audit.mutating = m.effect.is_mutating();
        let dry_run = match given.get("dry_run") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                audit.outcome = "invalid";
                return Answer::error("`dry_run`: use true or false. Nothing was sent.");
            }
        };
        let params = match method::params(m, given) {
            Ok(p) => p,
            Err(e) => {
                audit.outcome = "invalid";
                return Answer::error(e);
            }
        };
        audit.dry_run = dry_run && m.effect.is_mutating();
        audit.calls = Some(json!([views::call(m.name, &params, None)]));
        match policy.gate(audit.dry_run).decide(m.name, m.effect) {
            Verdict::DryRun => {
                let (base_url, username) = self.identity();
                match recorder::record(&base_url, &username, m.name, m.effect, &params).await {
                    Ok(rec) => {
                        audit.outcome = "dry_run";
                        let mut planned = rec.to_json();
                        planned["method"] = json!(m.name);
                        let mut doc =
                            json!({"dry_run": true, "changed": false, "would_send": [planned]});
                        let mut text = format!(
                            "Dry run: {} {} (not sent).",
                            m.name,
                            crate::core::gate::effect_words(m.effect, false)
                        );
                        if let Some((diff, said)) = self.record_diff(m, &params).await {
                            doc["record"] = diff;
                            text.push(' ');
                            text.push_str(&said);
                        }
                        if let Some((check, said)) = self.voipms_check(m, &params).await {
                            doc["checked_by_voipms"] = check;
                            text.push(' ');
                            text.push_str(&said);
                        }
                        text.push_str(" Call again with dry_run false to send it.");
                        Answer::ok(doc, text)
                    }
                    Err(f) => Answer::error(f.message),
                }
            }
            v @ (Verdict::Refuse(_) | Verdict::Confirm) => refused(v, audit),
            Verdict::Send => self.send(m, &params, audit).await,
        }
    }

    /// For a `set*` of a record family that names an existing record: the record before and
    /// after, field by field, and the fields the write does not send (VoIP.ms's `set*` methods
    /// write the whole record, so those may be reset). The diff and its words.
    async fn record_diff(&self, m: &'static Method, params: &Params) -> Option<(Value, String)> {
        let family = voipms_sdk::catalog::family_of(m.name).filter(|f| f.set == m.name)?;
        let Some(id) = params.get(family.set_id) else {
            return Some((
                json!({"family": family.name, "creates": true}),
                format!("It creates a new {} record.", family.name.replace('_', " ")),
            ));
        };
        let query = Params::new().with(family.get_id, id);
        let got = self
            .session()
            .client()
            .call_with_effect(family.get, &query, Effect::Read)
            .await
            .ok()?;
        let rows = match got.body.get(family.list_key) {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        };
        let text_of = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let Some(record) = rows
            .iter()
            .find(|r| r.get(family.id_field).map(text_of).as_deref() == Some(id))
        else {
            return Some((
                json!({"family": family.name, "id": id, "found": false}),
                format!(
                    "No {} record has id {id}: VoIP.ms would answer `{}`.",
                    family.name.replace('_', " "),
                    family.not_found
                ),
            ));
        };
        let field_of = |param: &'static str| -> &'static str {
            family
                .fields
                .iter()
                .find(|(p, _)| *p == param)
                .map_or(param, |(_, f)| *f)
        };
        let mut changes = Vec::new();
        let mut same = Vec::new();
        let mut not_sent = Vec::new();
        for p in m.params {
            if p.name == family.set_id || p.name == "test" {
                continue;
            }
            let current = record.get(field_of(p.name)).map(text_of);
            match (params.get(p.name), current) {
                (Some(after), Some(before)) if before == after => same.push(p.name),
                (Some(after), before) => {
                    changes.push(json!({"field": p.name, "before": before, "after": after}))
                }
                (None, Some(before)) if !before.is_empty() => {
                    not_sent.push(json!({"field": p.name, "current": before}));
                }
                (None, _) => {}
            }
        }
        let said = format!(
            "Record {id}: {} field{} change{}{}.",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            if changes.len() == 1 { "s" } else { "" },
            if not_sent.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} set field{} not sent may be reset (VoIP.ms writes the whole record): send them with their current values to keep them",
                    not_sent.len(),
                    if not_sent.len() == 1 { "" } else { "s" }
                )
            }
        );
        Some((
            json!({"family": family.name, "id": id, "found": true, "changes": changes,
                   "unchanged": same, "not_sent": not_sent}),
            said,
        ))
    }

    /// VoIP.ms's own dry run: for a method with a `test` parameter the caller did not set, the
    /// request is sent with `test=1`, which VoIP.ms checks without acting on it (answering
    /// `success_test`, or the error the real call would meet). The check and its words.
    async fn voipms_check(&self, m: &'static Method, params: &Params) -> Option<(Value, String)> {
        if m.param("test").is_none() || params.get("test").is_some() {
            return None;
        }
        let mut checked = params.clone();
        checked.push("test", "1");
        let outcome = self
            .session()
            .client()
            .call_with_effect(m.name, &checked, m.effect)
            .await;
        Some(match outcome {
            Ok(o) => (
                json!({"test": 1, "ok": true, "status": o.status()}),
                "VoIP.ms checked it with test=1 and would accept it.".to_owned(),
            ),
            Err(voipms_sdk::Error::Api(e)) if e.status() == "success_test" => (
                json!({"test": 1, "ok": true, "status": "success_test"}),
                "VoIP.ms checked it with test=1 and would accept it.".to_owned(),
            ),
            Err(e) => (
                json!({"test": 1, "ok": false, "error": e.to_string()}),
                format!("VoIP.ms checked it with test=1 and would refuse it: {e}"),
            ),
        })
    }

    /// Sends one call and turns its answer into a result.
    async fn send(&self, m: &'static Method, params: &Params, audit: &mut AuditNote) -> Answer {
        let outcome = self
            .session()
            .client()
            .call_with_effect(m.name, params, m.effect)
            .await;
        if m.effect.is_mutating() {
            self.saved().await;
        }
        match outcome {
            Ok(o) => {
                audit.outcome = "ok";
                let mut body = o.body;
                mask_secret_fields(&mut body);
                let text = if o.empty {
                    format!("{}: nothing to list", m.name)
                } else if m.effect.is_mutating() {
                    format!("{}: done", m.name)
                } else {
                    format!("{}: ok", m.name)
                };
                let body = match body {
                    Value::Object(_) => body,
                    other => json!({ "result": other }),
                };
                Answer::ok(body, text)
            }
            Err(e) if m.effect.is_mutating() && may_have_applied(&e) => {
                audit.outcome = "may_have_applied";
                let advice = if m.effect == Effect::Billable {
                    "Do not call it again: it spends money and may already have been done. Check \
                     the account with a read first."
                } else {
                    "Check the account with a read before calling it again."
                };
                Answer::error(format!(
                    "{}: the reply was lost ({e}), so the change may have been applied. {advice}",
                    m.name
                ))
            }
            Err(e) => {
                audit.outcome = "error";
                Answer::error(e.to_string())
            }
        }
    }

    async fn call_method(
        &self,
        given: &Map<String, Value>,
        policy: &Policy,
        audit: &mut AuditNote,
    ) -> Answer {
        let Some(name) = given.get("method").and_then(Value::as_str) else {
            return Answer::error("`method` is required: a method name such as getDIDsInfo");
        };
        let m = match method::resolve(name) {
            Ok(m) => m,
            Err(e) => return Answer::error(e),
        };
        if let Some(k) = given
            .keys()
            .find(|k| !["method", "params", "dry_run"].contains(&k.as_str()))
        {
            return Answer::error(format!(
                "unknown argument `{k}`: voipms_call_method takes method, params and dry_run; \
                 the method's parameters go in params"
            ));
        }
        let mut args = match given.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => {
                return Answer::error("`params` must be an object of parameter names and values");
            }
        };
        if let Some(d) = given.get("dry_run") {
            args.insert("dry_run".into(), d.clone());
        }
        self.method(m, &args, policy, audit).await
    }
}

/// The answer to a call the gate refused (the server's gate never asks for a confirmation: its
/// permissions are allowed or refused).
fn refused(verdict: Verdict, audit: &mut AuditNote) -> Answer {
    audit.outcome = "refused";
    match verdict {
        Verdict::Refuse(why) => Answer::error(why),
        _ => Answer::error("this change needs a confirmation the server cannot ask for"),
    }
}

/// What the audit log needs of one call.
#[derive(Debug)]
struct AuditNote {
    mutating: bool,
    dry_run: bool,
    calls: Option<Value>,
    outcome: &'static str,
}

impl Default for AuditNote {
    fn default() -> Self {
        AuditNote {
            mutating: false,
            dry_run: false,
            calls: None,
            outcome: "ok",
        }
    }
}

fn search(args: &Map<String, Value>) -> Answer {
    let Some(query) = args.get("query").and_then(Value::as_str) else {
        return Answer::error("`query` is required: words such as `voicemail messages`");
    };
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(10, |n| n.clamp(1, 50) as usize);
    let found = method::search(query, limit);
    let text = format!(
        "{} method{}",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    );
    Answer::ok(
        json!({"methods": found.iter().map(|m| method::brief(m)).collect::<Vec<_>>()}),
        text,
    )
}

fn describe(args: &Map<String, Value>) -> Answer {
    let Some(name) = args.get("method").and_then(Value::as_str) else {
        return Answer::error("`method` is required: a method name such as getDIDsInfo");
    };
    match method::resolve(name) {
        Ok(m) => Answer::ok(method::describe(m), format!("{}: {}", m.name, m.summary)),
        Err(e) => Answer::error(e),
    }
}

/// Masks every field whose name says it holds a secret (sub-account passwords and the like).
fn mask_secret_fields(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) && !v.is_object() && !v.is_array() && !v.is_null() {
                    *v = Value::String(MASK.to_owned());
                } else {
                    mask_secret_fields(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secret_fields),
        _ => {}
    }
}

/// The MCP result: a short text with the compact JSON (for clients that read only content), the
/// same JSON as structured content, and the audio if any; every secret masked. An error is its
/// message alone.
fn result(mut answer: Answer) -> CallToolResult {
    mask_secret_fields(&mut answer.json);
    let json_text = redact(&answer.json.to_string()).into_owned();
    let json: Value = serde_json::from_str(&json_text).unwrap_or(answer.json);
    let text = redact(&answer.text).into_owned();
    let mut content = vec![ContentBlock::text(if answer.error {
        text
    } else {
        format!("{text}\n{json_text}")
    })];
    if let Some((data, mime)) = answer.audio {
        content.push(ContentBlock::audio(data, mime));
    }
    if answer.error {
        // No structured content: it would not match the tool's output schema.
        return CallToolResult::error(content);
    }
    let mut r = CallToolResult::success(content);
    r.structured_content = Some(json);
    r
}

/// Whether the HTTP client behind a request may not change the account (a token without the
/// write scope). Over stdio there is no such client.
fn read_only_client(context: &RequestContext<RoleServer>) -> bool {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
        .is_some_and(|p| !p.can_write)
}

impl ServerHandler for VoipmsServer {
    fn get_info(&self) -> ServerConfig {
        let mode = if self.session().is_sandbox() {
            "This server works on the voipms sandbox, a simulated account: changes are real in it and harmless."
        } else {
            "This server works on a real VoIP.ms account."
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("voipms", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "{mode} Tools that change the account take dry_run, true by default: the result \
                 shows the API calls planned; call again with dry_run false to make them. \
                 voipms_search_methods, voipms_describe_method and voipms_call_method reach every \
                 VoIP.ms API method."
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = if read_only_client(&context) {
            self.inner
                .tools
                .iter()
                .zip(&self.inner.listed)
                .filter(|(def, _)| !def.is_mutating())
                .map(|(_, tool)| tool.clone())
                .collect()
        } else {
            self.inner.listed.clone()
        };
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .index
            .get(name)
            .map(|i| self.inner.listed[*i].clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let client = context.client_info().map(|c| (c.name, c.version));
        let args = request.arguments.unwrap_or_default();
        let read_only = read_only_client(&context);
        match self.call(&request.name, args, client, read_only).await {
            Some(r) => Ok(r.into()),
            None => Err(McpError::invalid_params(
                format!(
                    "unknown tool `{}`; tools/list gives the tools this server offers",
                    request.name
                ),
                None,
            )),
        }
    }
}
