//! Running the real `kingdom` binary to completion, with input files in a temporary
//! directory or on stdin.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// What a run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as JSON, after checking the run succeeded.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// Checks the run failed with exit code 2, printing nothing on stdout
    /// and a message containing every one of `parts` on stderr.
    pub fn bad_input(&self, parts: &[&str]) {
        assert_eq!(
            self.code, 2,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
        for part in parts {
            assert!(
                self.stderr.contains(part),
                "{part:?} not in {:?}",
                self.stderr
            );
        }
    }
}

/// Runs `kingdom args...`, feeding `stdin` if given.
pub fn kingdom(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kingdom"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kingdom starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A temporary directory holding `replay.json` with `text`.
pub struct ReplayFile {
    _dir: TempDir,
    pub path: PathBuf,
}

pub fn replay_file(text: &str) -> ReplayFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.json");
    std::fs::write(&path, text).unwrap();
    ReplayFile { _dir: dir, path }
}

/// `kingdom replay FILE` with `input` written to a temporary file.
pub fn replay(input: &Value) -> Run {
    let file = replay_file(&input.to_string());
    kingdom(&["replay", file.path.to_str().unwrap()], None)
}

/// `kingdom replay -` with `text` on stdin.
pub fn replay_stdin(text: &str) -> Run {
    kingdom(&["replay", "-"], Some(text))
}
