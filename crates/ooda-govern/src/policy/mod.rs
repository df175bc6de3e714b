//! Policy: declarative rules evaluated by the Cedar engine. Principal = the agent or human asking,
//! action = the catalogue entry, resource = the host (class, environment, exposure, tags),
//! context = confidence, approval, incident, maintenance window, active incidents, time and the
//! catalogue preconditions.
//!
//! Every decision asks Cedar twice: "may this run with no human?" and, if not, "may it run once a
//! human approves?". The answers give four outcomes: act alone, act and notify (a permit
//! annotated `@notify` decided), park for approval, deny. Any evaluation error is a deny.
//!
//! A policy set that does not parse or validate never replaces the loaded one.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use ooda_core::{ActionKind, Host, Principal, Timestamp};
use serde::Serialize;

use crate::catalogue::{self, Precondition};

/// The shipped policies (always loaded; a policy directory adds to them).
pub const DEFAULT_POLICIES: &str = include_str!("defaults.cedar");
/// The Cedar schema every policy is validated against.
pub const SCHEMA: &str = include_str!("schema.cedarschema");
/// The name the shipped policies are reported under.
pub const DEFAULTS_NAME: &str = "<shipped>/defaults.cedar";

/// What policy is asked about.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    pub principal: Principal,
    pub kind: ActionKind,
    pub host: Host,
    pub confidence: f64,
    pub has_incident: bool,
    pub in_maintenance_window: bool,
    pub active_incidents: u32,
    /// The request undoes an earlier change (see `ActionRequest::revert`).
    pub reverting: bool,
    /// The catalogue preconditions that hold.
    pub holding: BTreeSet<Precondition>,
    pub now: Timestamp,
}

/// How much autonomy policy grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Autonomy {
    /// Act without telling anyone beyond the audit log.
    Alone,
    /// Act, then notify the owner.
    Notify,
    /// Park until a human approves.
    NeedsApproval,
    Deny,
}

impl Autonomy {
    pub fn as_str(self) -> &'static str {
        match self {
            Autonomy::Alone => "alone",
            Autonomy::Notify => "notify",
            Autonomy::NeedsApproval => "needs_approval",
            Autonomy::Deny => "deny",
        }
    }
}

/// A policy that decided, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Determining {
    /// The `@id` annotation, or `FILE#N` without one.
    pub id: String,
    pub effect: &'static str,
    /// `file:line`.
    pub location: String,
}

impl std::fmt::Display for Determining {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.effect, self.id, self.location)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDecision {
    pub autonomy: Autonomy,
    /// The policies that made the decision: the permits that allowed, or the forbids that
    /// refused (for `NeedsApproval`, the forbids that kept the agent from acting alone).
    pub determining: Vec<Determining>,
    /// Evaluation errors (each one turned the decision into a deny).
    pub errors: Vec<String>,
}

impl PolicyDecision {
    pub fn determining_ids(&self) -> Vec<String> {
        self.determining.iter().map(|d| d.id.clone()).collect()
    }

    fn deny(reason: impl Into<String>) -> Self {
        Self {
            autonomy: Autonomy::Deny,
            determining: Vec::new(),
            errors: vec![reason.into()],
        }
    }
}

/// One problem in a policy set, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A summary of a loaded policy set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadSummary {
    pub files: usize,
    pub policies: usize,
    /// SHA-256 over every source, in load order.
    pub digest: String,
}

/// Reads every `*.cedar` file in `dir`, sorted by name.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, Vec<PolicyProblem>> {
    let problem = |file: String, message: String| {
        vec![PolicyProblem {
            file,
            line: 0,
            column: 0,
            message,
        }]
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        problem(
            dir.display().to_string(),
            format!("cannot read directory: {e}"),
        )
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "cedar"))
        .collect();
    paths.sort();
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let bytes =
            std::fs::read(&path).map_err(|e| problem(name.clone(), format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| problem(name.clone(), format!("expected UTF-8 text: {e}")))?;
        sources.push((name, text));
    }
    Ok(sources)
}

/// Validates a policy directory as `ooda policy check` does: the shipped defaults plus every
/// `*.cedar` file in it must parse and validate against the schema.
pub fn check_dir(dir: &Path) -> Result<LoadSummary, Vec<PolicyProblem>> {
    let sources = read_dir_sources(dir)?;
    let engine = PolicyEngine::with_defaults()?;
    engine.compile(&sources).map(|loaded| loaded.summary())
}

/// Line and column (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// The policy evaluator, holding the last good policy set.
pub struct PolicyEngine {
    inner: imp::Engine,
    current: RwLock<Arc<imp::Loaded>>,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("loaded", &self.summary())
            .finish()
    }
}

impl PolicyEngine {
    /// The shipped defaults only.
    pub fn with_defaults() -> Result<Self, Vec<PolicyProblem>> {
        let inner = imp::Engine::new()?;
        let loaded = inner.compile(&[])?;
        Ok(Self {
            inner,
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The defaults plus the policies in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, Vec<PolicyProblem>> {
        let engine = Self::with_defaults()?;
        engine.reload_dir(dir)?;
        Ok(engine)
    }

    fn compile(&self, sources: &[(String, String)]) -> Result<imp::Loaded, Vec<PolicyProblem>> {
        self.inner.compile(sources)
    }

    /// Replaces the policy set with the defaults plus `dir`, or keeps the current one and
    /// returns the problems. The caller raises the self-alert.
    pub fn reload_dir(&self, dir: &Path) -> Result<LoadSummary, Vec<PolicyProblem>> {
        let sources = read_dir_sources(dir)?;
        self.reload_sources(&sources)
    }

    /// Like [`reload_dir`](Self::reload_dir) from in-memory sources (name, text).
    pub fn reload_sources(
        &self,
        sources: &[(String, String)],
    ) -> Result<LoadSummary, Vec<PolicyProblem>> {
        let loaded = self.compile(sources)?;
        let summary = loaded.summary();
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(loaded),
            Err(_) => {
                return Err(vec![PolicyProblem {
                    file: String::new(),
                    line: 0,
                    column: 0,
                    message: "policy state poisoned by a panic".into(),
                }])
            }
        }
        Ok(summary)
    }

    pub fn summary(&self) -> LoadSummary {
        self.loaded().map(|l| l.summary()).unwrap_or(LoadSummary {
            files: 0,
            policies: 0,
            digest: String::new(),
        })
    }

    fn loaded(&self) -> Option<Arc<imp::Loaded>> {
        self.current.read().ok().map(|c| Arc::clone(&c))
    }

    /// Decides. Never panics and never allows on error.
    pub fn evaluate(&self, input: &PolicyInput) -> PolicyDecision {
        let Some(loaded) = self.loaded() else {
            return PolicyDecision::deny("policy state poisoned by a panic");
        };
        self.inner.evaluate(&loaded, input)
    }
}

fn context_facts(input: &PolicyInput) -> serde_json::Value {
    let spec = catalogue::spec(input.kind);
    let confidence = if input.confidence.is_finite() {
        input.confidence.clamp(0.0, 1.0)
    } else {
        0.0 // a nonsense confidence is the lowest one: it can only escalate
    };
    use chrono::{Datelike, Timelike};
    serde_json::json!({
        "confidence": {"__extn": {"fn": "decimal", "arg": format!("{confidence:.4}")}},
        "risk": spec.risk.as_str(),
        "destructive": spec.destructive,
        "reversible": spec.reversible,
        "has_incident": input.has_incident,
        "in_maintenance_window": input.in_maintenance_window,
        "active_incidents": i64::from(input.active_incidents),
        "reverting": input.reverting,
        "hour": i64::from(input.now.hour()),
        "weekday": i64::from(input.now.weekday().number_from_monday()),
        "replication_healthy": input.holding.contains(&Precondition::ReplicationHealthy),
        "path_allowlisted": input.holding.contains(&Precondition::PathAllowlisted),
        "template_approved": input.holding.contains(&Precondition::TemplateApproved),
        "previous_release_available": input.holding.contains(&Precondition::PreviousReleaseAvailable),
        "host_drained": input.holding.contains(&Precondition::HostDrained),
    })
}

#[cfg(feature = "cedar")]
mod imp {
    use std::str::FromStr;

    use cedar_policy::{
        Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicyId,
        PolicySet, Request, Schema, ValidationMode, Validator,
    };
    use miette::Diagnostic;
    use sha2::{Digest, Sha256};

    use super::*;

    pub(super) struct Engine {
        schema: Schema,
        validator: Validator,
        authorizer: Authorizer,
    }

    #[derive(Debug)]
    struct Meta {
        label: String,
        location: String,
        effect: &'static str,
        notify: bool,
    }

    pub(super) struct Loaded {
        set: PolicySet,
        meta: HashMap<String, Meta>,
        files: usize,
        digest: String,
    }

    impl Loaded {
        pub(super) fn summary(&self) -> LoadSummary {
            LoadSummary {
                files: self.files,
                policies: self.meta.len(),
                digest: self.digest.clone(),
            }
        }
    }

    fn diagnostic_problem(
        file: &str,
        text: &str,
        error: &dyn Diagnostic,
        message: String,
    ) -> PolicyProblem {
        let offset = error
            .labels()
            .and_then(|mut labels| labels.next())
            .map(|label| label.offset());
        let (line, column) = offset.map_or((0, 0), |o| line_col(text, o));
        let help = error.help().map(|h| format!(" ({h})")).unwrap_or_default();
        PolicyProblem {
            file: file.to_owned(),
            line,
            column,
            message: format!("{message}{help}"),
        }
    }

    impl Engine {
        pub(super) fn new() -> Result<Self, Vec<PolicyProblem>> {
            let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA).map_err(|e| {
                vec![diagnostic_problem(
                    "<shipped>/schema.cedarschema",
                    SCHEMA,
                    &e,
                    e.to_string(),
                )]
            })?;
            Ok(Self {
                validator: Validator::new(schema.clone()),
                schema,
                authorizer: Authorizer::new(),
            })
        }

        pub(super) fn compile(
            &self,
            sources: &[(String, String)],
        ) -> Result<Loaded, Vec<PolicyProblem>> {
            let mut all = Vec::with_capacity(sources.len() + 1);
            all.push((DEFAULTS_NAME.to_owned(), DEFAULT_POLICIES.to_owned()));
            all.extend(sources.iter().cloned());
            let mut problems = Vec::new();
            let mut set = PolicySet::new();
            let mut meta = HashMap::new();
            // Which file each policy id came from, for locating validation errors.
            let mut origin: HashMap<String, usize> = HashMap::new();
            let mut hasher = Sha256::new();
            for (file_index, (file, text)) in all.iter().enumerate() {
                hasher.update(file.as_bytes());
                hasher.update([0]);
                hasher.update(text.as_bytes());
                hasher.update([0]);
                let parsed = match PolicySet::from_str(text) {
                    Ok(parsed) => parsed,
                    Err(e) => {
                        problems.push(diagnostic_problem(file, text, &e, e.to_string()));
                        continue;
                    }
                };
                if parsed.templates().next().is_some() {
                    problems.push(PolicyProblem {
                        file: file.clone(),
                        line: 0,
                        column: 0,
                        message:
                            "policy templates (with ?principal/?resource slots) are not supported"
                                .into(),
                    });
                    continue;
                }
                // Cedar names a file's policies policy0, policy1 … in order of appearance.
                let mut policies: Vec<_> = parsed.policies().collect();
                policies.sort_by_key(|p| {
                    p.id()
                        .to_string()
                        .trim_start_matches("policy")
                        .parse::<usize>()
                        .unwrap_or(usize::MAX)
                });
                let mut cursor = 0usize;
                for (index, policy) in policies.into_iter().enumerate() {
                    let offset = policy
                        .to_cedar()
                        .and_then(|source| {
                            text.get(cursor..)
                                .and_then(|rest| rest.find(&source))
                                .map(|at| (at, source.len()))
                        })
                        .map(|(at, len)| {
                            let start = cursor + at;
                            cursor = start + len;
                            start
                        })
                        .unwrap_or(cursor);
                    let (line, _) = line_col(text, offset);
                    let id = format!("{file}#{index}");
                    let label = policy
                        .annotation("id")
                        .map_or_else(|| id.clone(), str::to_owned);
                    let effect = match policy.effect() {
                        cedar_policy::Effect::Permit => "permit",
                        cedar_policy::Effect::Forbid => "forbid",
                    };
                    let notify = policy.annotation("notify").is_some();
                    if let Err(e) = set.add(policy.new_id(PolicyId::new(&id))) {
                        problems.push(PolicyProblem {
                            file: file.clone(),
                            line,
                            column: 1,
                            message: e.to_string(),
                        });
                        continue;
                    }
                    origin.insert(id.clone(), file_index);
                    meta.insert(
                        id,
                        Meta {
                            label,
                            location: format!("{file}:{line}"),
                            effect,
                            notify,
                        },
                    );
                }
            }
            let validation = self.validator.validate(&set, ValidationMode::Strict);
            for error in validation.validation_errors() {
                let id = error.policy_id().to_string();
                let (file, text) = origin
                    .get(&id)
                    .and_then(|i| all.get(*i))
                    .map_or(("<unknown>", ""), |(f, t)| (f.as_str(), t.as_str()));
                let label = meta.get(&id).map_or(id.as_str(), |m| m.label.as_str());
                problems.push(diagnostic_problem(
                    file,
                    text,
                    error,
                    format!("policy {label}: {error}"),
                ));
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Ok(Loaded {
                set,
                meta,
                files: all.len(),
                digest: hex::encode(hasher.finalize()),
            })
        }

        fn uid(type_name: &str, id: &str) -> Result<EntityUid, String> {
            let type_name = EntityTypeName::from_str(type_name).map_err(|e| e.to_string())?;
            Ok(EntityUid::from_type_name_and_id(
                type_name,
                EntityId::new(id),
            ))
        }

        /// One Cedar question: (allowed, determining policy ids, errors).
        fn ask(
            &self,
            loaded: &Loaded,
            input: &PolicyInput,
            approved: bool,
        ) -> Result<(bool, Vec<String>), String> {
            let (principal_type, principal_name) = match &input.principal {
                Principal::Agent(name) => ("Agent", name.as_str()),
                Principal::Human(name) => ("Human", name.as_str()),
            };
            let principal = Self::uid(principal_type, principal_name)?;
            let resource = Self::uid("Host", &input.host.name)?;
            let action = Self::uid("Action", input.kind.as_str())?;
            let tags: Vec<String> = input
                .host
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let entities = serde_json::json!([
                {
                    "uid": {"type": "Host", "id": input.host.name},
                    "attrs": {
                        "class": input.host.class.as_str(),
                        "environment": input.host.environment.as_str(),
                        "internet_facing": input.host.internet_facing,
                        "tags": tags,
                    },
                    "parents": [],
                },
                {"uid": {"type": principal_type, "id": principal_name}, "attrs": {}, "parents": []},
            ]);
            let entities = Entities::from_json_value(entities, Some(&self.schema))
                .map_err(|e| format!("entities: {e}"))?;
            let mut context = context_facts(input);
            if let Some(map) = context.as_object_mut() {
                map.insert("approved".into(), serde_json::Value::Bool(approved));
            }
            let context = Context::from_json_value(context, Some((&self.schema, &action)))
                .map_err(|e| format!("context: {e}"))?;
            let request = Request::new(principal, action, resource, context, Some(&self.schema))
                .map_err(|e| format!("request: {e}"))?;
            let response = self
                .authorizer
                .is_authorized(&request, &loaded.set, &entities);
            let errors: Vec<String> = response
                .diagnostics()
                .errors()
                .map(|e| e.to_string())
                .collect();
            if !errors.is_empty() {
                return Err(errors.join("; "));
            }
            let reasons = response
                .diagnostics()
                .reason()
                .map(|id| id.to_string())
                .collect();
            Ok((response.decision() == Decision::Allow, reasons))
        }

        fn determining(loaded: &Loaded, ids: &[String]) -> Vec<Determining> {
            let mut out: Vec<Determining> = ids
                .iter()
                .map(|id| match loaded.meta.get(id) {
                    Some(meta) => Determining {
                        id: meta.label.clone(),
                        effect: meta.effect,
                        location: meta.location.clone(),
                    },
                    None => Determining {
                        id: id.clone(),
                        effect: "unknown",
                        location: String::new(),
                    },
                })
                .collect();
            out.sort_by(|a, b| a.location.cmp(&b.location));
            out
        }

        pub(super) fn evaluate(&self, loaded: &Loaded, input: &PolicyInput) -> PolicyDecision {
            let alone = match self.ask(loaded, input, false) {
                Ok(answer) => answer,
                Err(error) => return PolicyDecision::deny(error),
            };
            if alone.0 {
                let notify = alone
                    .1
                    .iter()
                    .any(|id| loaded.meta.get(id).is_some_and(|m| m.notify));
                return PolicyDecision {
                    autonomy: if notify {
                        Autonomy::Notify
                    } else {
                        Autonomy::Alone
                    },
                    determining: Self::determining(loaded, &alone.1),
                    errors: Vec::new(),
                };
            }
            let approved = match self.ask(loaded, input, true) {
                Ok(answer) => answer,
                Err(error) => return PolicyDecision::deny(error),
            };
            if approved.0 {
                let mut ids = alone.1;
                ids.extend(approved.1);
                return PolicyDecision {
                    autonomy: Autonomy::NeedsApproval,
                    determining: Self::determining(loaded, &ids),
                    errors: Vec::new(),
                };
            }
            PolicyDecision {
                autonomy: Autonomy::Deny,
                determining: Self::determining(loaded, &approved.1),
                errors: if approved.1.is_empty() {
                    vec!["no policy permits this action, even with a human's approval".into()]
                } else {
                    Vec::new()
                },
            }
        }
    }
}

#[cfg(not(feature = "cedar"))]
mod imp {
    //! Built without a policy engine: every decision is a deny (fail closed).
    use super::*;

    pub(super) struct Engine;
    pub(super) struct Loaded;

    impl Loaded {
        pub(super) fn summary(&self) -> LoadSummary {
            LoadSummary {
                files: 0,
                policies: 0,
                digest: String::new(),
            }
        }
    }

    impl Engine {
        pub(super) fn new() -> Result<Self, Vec<PolicyProblem>> {
            Ok(Self)
        }
        pub(super) fn compile(&self, _: &[(String, String)]) -> Result<Loaded, Vec<PolicyProblem>> {
            Ok(Loaded)
        }
        pub(super) fn evaluate(&self, _: &Loaded, input: &PolicyInput) -> PolicyDecision {
            let _ = context_facts(input);
            PolicyDecision::deny(
                "ooda was built without the `cedar` feature: every action is denied",
            )
        }
    }
}

#[cfg(all(test, feature = "cedar"))]
mod tests;
