//! Background work of `serve` and `worker`: loops on their own threads, off the HTTP workers.

pub mod mailer;
pub mod scheduler;

/// Waits for `thread` until `deadline`; whether it ended (it is left to the process's exit if not).
fn join_until(thread: std::thread::JoinHandle<()>, deadline: std::time::Instant) -> bool {
    while !thread.is_finished() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = thread.join();
    true
}

/// How long a loop waits after its `failures`-th failure in a row: its tick, doubled each time,
/// at most 30 s. The database may be away; the loop picks up where it left when it returns.
fn backoff(tick: std::time::Duration, failures: u32) -> std::time::Duration {
    (tick * 2u32.saturating_pow(failures.min(5))).min(std::time::Duration::from_secs(30))
}
