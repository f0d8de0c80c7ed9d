//! The official OCPP 1.6 JSON schemas and a wire audit built on them.
//!
//! The schemas are the ones the PyPI `ocpp` wheel ships (`ocpp/v16/schemas/*.json`);
//! `scripts/fetch-ocpp-schemas` downloads them (pinned version and hash) into
//! `target/ocpp-schemas/` and `./scripts/test` exports the directory as
//! `CSMS_OCPP16_SCHEMAS`. Nothing third-party is committed.
//!
//! Loading fails loudly: without the variable, or with a directory that does not hold
//! the schemas, [`Schemas::load`] panics with what to run, so a schema test can never
//! pass by validating nothing.
//!
//! [`audit`] pairs every CALL of a conversation (both directions, as a simulated charger
//! saw it) with its CALLRESULT and validates each payload against `<Action>.json` or
//! `<Action>Response.json`. This module does no I/O besides reading the schema files.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use ocpp::Frame;
use serde_json::Value;

/// The environment variable naming the schema directory.
pub const SCHEMAS_DIR_VAR: &str = "CSMS_OCPP16_SCHEMAS";

/// Every official OCPP 1.6 schema, compiled, by file stem (`Heartbeat`,
/// `HeartbeatResponse`, ...).
pub struct Schemas {
    dir: PathBuf,
    validators: HashMap<String, jsonschema::Validator>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("dir", &self.dir)
            .field("count", &self.validators.len())
            .finish()
    }
}

/// What to run when the schemas are missing.
const HOW_TO_FETCH: &str = "run `export CSMS_OCPP16_SCHEMAS=\"$(scripts/fetch-ocpp-schemas)\"` \
     first (./scripts/test and .ci/run do it)";

impl Schemas {
    /// Loads the schemas from `$CSMS_OCPP16_SCHEMAS`.
    ///
    /// # Panics
    /// When the variable is unset or the directory does not hold the schemas: a schema
    /// test must fail, never pass silently.
    pub fn load() -> Schemas {
        match Schemas::load_from(std::env::var_os(SCHEMAS_DIR_VAR)) {
            Ok(schemas) => schemas,
            Err(e) => panic!("{e}"),
        }
    }

    /// Loads the schemas from `dir` (the value of `CSMS_OCPP16_SCHEMAS`).
    ///
    /// # Errors
    /// A message saying what is wrong and how to fix it: no directory given, a missing
    /// or unreadable directory, too few schemas, or a schema that does not compile.
    pub fn load_from(dir: Option<OsString>) -> Result<Schemas, String> {
        let dir = match dir {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                return Err(format!(
                    "{SCHEMAS_DIR_VAR} is not set: the OCPP 1.6 schema tests need the official \
                     schemas; {HOW_TO_FETCH}"
                ))
            }
        };
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            format!(
                "{SCHEMAS_DIR_VAR}={}: cannot read the directory ({e}); {HOW_TO_FETCH}",
                dir.display()
            )
        })?;
        let mut validators = HashMap::new();
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            validators.insert(name.to_owned(), compile(&path)?);
        }
        // The wheel ships 39 actions, each with a request and a response schema.
        for required in [
            "Heartbeat",
            "HeartbeatResponse",
            "BootNotification",
            "Reset",
        ] {
            if !validators.contains_key(required) {
                return Err(format!(
                    "{SCHEMAS_DIR_VAR}={}: {required}.json is missing ({} schemas found); \
                     {HOW_TO_FETCH}",
                    dir.display(),
                    validators.len()
                ));
            }
        }
        Ok(Schemas { dir, validators })
    }

    /// How many schemas were loaded.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Whether no schema was loaded (never true for a loaded set).
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Validates `payload` against `<name>.json` (`name` is `Heartbeat` for the request,
    /// `HeartbeatResponse` for the answer).
    ///
    /// # Errors
    /// Every violation, one per line, or that there is no official schema of that name.
    pub fn check(&self, name: &str, payload: &Value) -> Result<(), String> {
        let validator = self.validators.get(name).ok_or_else(|| {
            format!(
                "no official OCPP 1.6 schema {name}.json in {}",
                self.dir.display()
            )
        })?;
        let errors: Vec<String> = validator
            .iter_errors(payload)
            .map(|e| format!("{name}.json: at '{}': {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{}\n  payload: {payload}", errors.join("\n")))
        }
    }

    /// Validates a CALL payload of `action` (`<Action>.json`).
    ///
    /// # Errors
    /// As [`Schemas::check`].
    pub fn check_request(&self, action: &str, payload: &Value) -> Result<(), String> {
        self.check(action, payload)
    }

    /// Validates the CALLRESULT payload answering `action` (`<Action>Response.json`).
    ///
    /// # Errors
    /// As [`Schemas::check`].
    pub fn check_response(&self, action: &str, payload: &Value) -> Result<(), String> {
        self.check(&format!("{action}Response"), payload)
    }
}

fn compile(path: &Path) -> Result<jsonschema::Validator, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let schema: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // Formats (`date-time`, `uri`) are checked too: our timestamps must be RFC 3339.
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Who sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sender {
    Charger,
    Server,
}

/// One payload that was validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Who sent the frame carrying it.
    pub from: Sender,
    /// The action of the CALL (for a CALLRESULT: of the CALL it answers).
    pub action: String,
    /// `true` for a CALLRESULT payload, `false` for a CALL payload.
    pub is_response: bool,
    pub payload: Value,
}

/// The outcome of [`audit`].
#[derive(Debug, Default)]
pub struct Audit {
    /// Every payload validated.
    pub checked: Vec<Checked>,
    /// CALLERRORs seen (not schema-checked; their shape is checked by golden tests).
    pub call_errors: usize,
    /// Every violation and every frame that could not be paired or parsed.
    pub failures: Vec<String>,
}

impl Audit {
    /// Panics listing every failure, if any.
    pub fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "{} of {} payloads break the official OCPP 1.6 schemas:\n{}",
            self.failures.len(),
            self.checked.len(),
            self.failures.join("\n")
        );
    }

    /// `(from, action, is_response)` of every payload validated.
    pub fn coverage(&self) -> BTreeSet<(Sender, String, bool)> {
        self.checked
            .iter()
            .map(|c| (c.from, c.action.clone(), c.is_response))
            .collect()
    }

    /// The validated payloads sent by `from` for `action` (`is_response` as in [`Checked`]).
    pub fn payloads(&self, from: Sender, action: &str, is_response: bool) -> Vec<&Value> {
        self.checked
            .iter()
            .filter(|c| c.from == from && c.action == action && c.is_response == is_response)
            .map(|c| &c.payload)
            .collect()
    }
}

/// Validates a whole conversation: `sent` are the text frames the charger sent,
/// `received` those it received. Every CALL is checked against `<Action>.json`, every
/// CALLRESULT against the response schema of the CALL it answers (matched by message
/// id among the other side's CALLs).
pub fn audit(schemas: &Schemas, sent: &[String], received: &[String]) -> Audit {
    let mut result = Audit::default();
    let mut parsed: Vec<(Sender, Frame)> = Vec::new();
    for (from, texts) in [(Sender::Charger, sent), (Sender::Server, received)] {
        for text in texts {
            match Frame::parse(text) {
                Ok(frame) => parsed.push((from, frame)),
                Err(e) => result
                    .failures
                    .push(format!("{from:?} sent an unparsable frame ({e}): {text}")),
            }
        }
    }
    let mut actions: HashMap<(Sender, String), String> = HashMap::new();
    for (from, frame) in &parsed {
        if let Frame::Call(call) = frame {
            actions.insert((*from, call.message_id.clone()), call.action.clone());
        }
    }
    for (from, frame) in parsed {
        let (action, is_response, payload) = match frame {
            Frame::Call(call) => (call.action, false, call.payload),
            Frame::CallResult(answer) => {
                let asker = match from {
                    Sender::Charger => Sender::Server,
                    Sender::Server => Sender::Charger,
                };
                match actions.get(&(asker, answer.message_id.clone())) {
                    Some(action) => (action.clone(), true, answer.payload),
                    None => {
                        result.failures.push(format!(
                            "{from:?} sent a CALLRESULT for no CALL of the other side: {}",
                            answer.message_id
                        ));
                        continue;
                    }
                }
            }
            Frame::CallError(_) => {
                result.call_errors += 1;
                continue;
            }
        };
        let outcome = if is_response {
            schemas.check_response(&action, &payload)
        } else {
            schemas.check_request(&action, &payload)
        };
        if let Err(e) = outcome {
            let kind = if is_response { "answer to" } else { "CALL" };
            result
                .failures
                .push(format!("{from:?} {kind} {action}: {e}"));
        }
        result.checked.push(Checked {
            from,
            action,
            is_response,
            payload,
        });
    }
    result
}
