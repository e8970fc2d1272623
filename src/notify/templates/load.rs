//! Loading templates: the built-in texts, overridden file by file from a folder, every one checked
//! (syntax, unknown variables, required ones, a trial render) and every problem named with its
//! file and line; and writing the defaults out (`incident templates export`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use super::catalog::{self, Spec, TEMPLATES};

/// One problem with one template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every problem found in a folder, one a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateErrors(pub Vec<TemplateError>);

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateErrors {}

/// An engine that leaves nothing undefined, and escapes values for HTML in `.html` templates
/// only: WhatsApp, SYSTEM and plain-text e-mail are not markup, so `<` stays `<` there.
fn engine() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// A value for every variable the template may use, to try it.
fn sample_context(spec: &Spec) -> Value {
    let values: BTreeMap<&str, String> = spec
        .variables()
        .into_iter()
        .map(|(name, _)| (name, format!("<{name}>")))
        .collect();
    Value::from(values)
}

fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> TemplateError {
    TemplateError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

fn engine_error(file: &str, e: &minijinja::Error) -> TemplateError {
    let message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    error(file, e.line(), message)
}

/// The first line that names `word` inside `{{ }}` or `{% %}` (best effort: for a message).
fn line_of(source: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    source
        .lines()
        .position(|line| {
            line.match_indices(word).any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = line[i + word.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            })
        })
        .map(|i| i + 1)
}

/// Checks one compiled template against its spec: only its event's variables, the required
/// ones present, and a trial render with every variable set.
fn check(env: &Environment<'static>, spec: &Spec, source: &str) -> Vec<TemplateError> {
    let template = match env.get_template(spec.name) {
        Ok(t) => t,
        Err(e) => return vec![engine_error(spec.name, &e)],
    };
    let known: Vec<&str> = spec.variables().iter().map(|(name, _)| *name).collect();
    let mut used: Vec<String> = template.undeclared_variables(false).into_iter().collect();
    used.sort();
    let mut errors: Vec<TemplateError> = used
        .iter()
        .filter(|v| !known.contains(&v.as_str()))
        .map(|v| {
            error(
                spec.name,
                line_of(source, v),
                format!(
                    "unknown variable `{v}`; {} templates know: {}",
                    spec.event,
                    known.join(", ")
                ),
            )
        })
        .collect();
    for required in spec.required() {
        if !used.iter().any(|v| v == required) {
            errors.push(error(
                spec.name,
                None,
                format!("the template must use the variable `{required}` ({{{{ {required} }}}})"),
            ));
        }
    }
    if errors.is_empty() {
        if let Err(e) = template.render(sample_context(spec)) {
            errors.push(engine_error(spec.name, &e));
        }
    }
    errors
}

/// The engine with every built-in text, each replaced by the override of the same name.
pub fn build(
    overrides: &[(&'static Spec, String)],
) -> Result<Environment<'static>, TemplateErrors> {
    let source_of = |spec: &Spec| {
        overrides
            .iter()
            .find(|(s, _)| s.name == spec.name)
            .map_or(spec.default, |(_, text)| text.as_str())
    };
    let mut env = engine();
    let mut errors = Vec::new();
    for spec in TEMPLATES {
        if let Err(e) = env.add_template_owned(spec.name, source_of(spec).to_string()) {
            errors.push(engine_error(spec.name, &e));
        }
    }
    for spec in TEMPLATES {
        if env.get_template(spec.name).is_ok() {
            errors.extend(check(&env, spec, source_of(spec)));
        }
    }
    if errors.is_empty() {
        Ok(env)
    } else {
        Err(TemplateErrors(errors))
    }
}

/// Reads the overrides in `dir`: every file must be named after a template (a misspelt name
/// would otherwise be ignored without a word).
pub fn read_dir(dir: &Path) -> Result<Vec<(&'static Spec, String)>, TemplateErrors> {
    let folder = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        TemplateErrors(vec![error(
            &folder,
            None,
            format!("cannot read the folder: {e}"),
        )])
    })?;
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let path = match entry {
            Ok(entry) => entry.path(),
            Err(e) => {
                errors.push(error(&folder, None, format!("cannot list the folder: {e}")));
                continue;
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || path.is_dir() {
            continue;
        }
        match (catalog::named(&name), std::fs::read_to_string(&path)) {
            (None, _) => errors.push(error(
                &name,
                None,
                "not a template name (run `incident templates export DIR` to see them all)",
            )),
            (Some(_), Err(e)) => errors.push(error(&name, None, format!("cannot read: {e}"))),
            (Some(spec), Ok(text)) => found.push((spec, text)),
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(TemplateErrors(errors))
    }
}

/// Writes every built-in template into `dir` (created if needed), each with a header comment
/// listing its variables; refuses to overwrite a file unless `force`.
pub fn export(dir: &Path, force: bool) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let paths: Vec<PathBuf> = TEMPLATES.iter().map(|s| dir.join(s.name)).collect();
    if !force {
        if let Some(existing) = paths.iter().find(|p| p.exists()) {
            return Err(format!(
                "{} already exists: export into an empty folder, or add --force to overwrite",
                existing.display()
            ));
        }
    }
    for (spec, path) in TEMPLATES.iter().zip(&paths) {
        let text = format!("{}{}", spec.header(), spec.default);
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(paths)
}
