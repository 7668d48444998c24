//! One error type for the harness: a message that says what failed, on which file or object,
//! and what to do, with the cause chained behind it.

use std::fmt;

#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    pub fn msg(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `result.context("reading values/gke.yaml")` turns any error into "reading values/gke.yaml: <cause>".
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T, Error>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|cause| Error {
            message: format!("{}: {cause}", what.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_comes_before_the_cause() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("denied"));
        assert_eq!(
            r.context("reading chart/values.yaml")
                .unwrap_err()
                .to_string(),
            "reading chart/values.yaml: denied"
        );
    }
}
