//! Problems found in a resource, each with the path of the field it concerns.

use std::fmt;

/// One problem in a manifest: where (`spec.tables[2].columns[0].type`) and what.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Field path in the resource, `spec.` included.
    pub path: String,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one resource.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The problems, in the order of the fields they concern.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Collects problems while walking a resource.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    problems: Vec<Problem>,
}

impl Problems {
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.problems.iter().map(|p| p.path.as_str())
    }

    pub(crate) fn len(&self) -> usize {
        self.problems.len()
    }

    pub(crate) fn into_result(self) -> Result<(), ValidationError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                problems: self.problems,
            })
        }
    }
}

/// Checks a Kubernetes object name (DNS-1123 subdomain for most kinds; FoxDB resources follow
/// the stricter label rules so Service names derived from them stay valid).
pub(crate) fn dns_label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name must not be empty".into());
    }
    if name.len() > 63 {
        return Some(format!("\"{name}\" is longer than 63 characters"));
    }
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_ends = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !valid_chars || !valid_ends {
        return Some(format!(
            "\"{name}\" must consist of lower case letters, digits and '-', and start and end with a letter or digit"
        ));
    }
    None
}
