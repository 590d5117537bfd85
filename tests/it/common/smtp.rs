//! A real SMTP server for the mail tests: `tests/smtp_server.py` (aiosmtpd) on a loopback port of
//! its own, storing what it accepts as JSON files the test reads back. It can be stopped (the port
//! then refuses connections), started again on the same port, and told to hang after DATA.

use serde::Deserialize;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub message_id: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub base64: String,
}

pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The Python with aiosmtpd: `CLOSEDLOOP_TEST_PYTHON`, else Debian's (python3-aiosmtpd).
fn python() -> String {
    std::env::var("CLOSEDLOOP_TEST_PYTHON").unwrap_or_else(|_| {
        if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3".into()
        } else {
            "python3".into()
        }
    })
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = SmtpServer {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port, and waits until it listens.
    pub fn restart(&mut self) {
        self.stop();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the test SMTP server with {}: {e}", python()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the test SMTP server did not start (is python3-aiosmtpd installed? scripts/deps installs it)"
        );
        self.child = Some(child);
    }

    /// Kills the server: connections to its port are refused until `restart`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// While on, the server stores a message and then never answers its DATA.
    pub fn hang(&self, on: bool) {
        let flag = self.dir.path().join("hang");
        if on {
            std::fs::write(flag, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// Every mail accepted so far, in the order they arrived: the envelopes of one Message-ID
    /// taken together (closedloop sends each address its own), a resend to an address that had
    /// it already counted as a mail of its own.
    pub fn messages(&self) -> Vec<Mail> {
        let mut mails: Vec<Mail> = vec![];
        for envelope in self.envelopes() {
            let same = mails.iter_mut().rev().find(|m| {
                m.message_id == envelope.message_id
                    && !m.rcpt_tos.iter().any(|r| envelope.rcpt_tos.contains(r))
            });
            match same {
                Some(mail) => mail.rcpt_tos.extend(envelope.rcpt_tos),
                None => mails.push(envelope),
            }
        }
        mails
    }

    /// Every envelope accepted so far, in the order they arrived.
    pub fn envelopes(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits up to `within` until at least `n` envelopes (one per address) have arrived; returns
    /// the mails.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let until = Instant::now() + within;
        loop {
            if self.envelopes().len() >= n || Instant::now() > until {
                return self.messages();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
