//! What a subcommand reports when it fails: a message for the terminal and the exit status.

/// An error worth showing to the person at the terminal, with the exit code to use.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}
