//! The README's walkthrough, run as written: its shell blocks, with `cargo run --release`
//! standing for the binary under test. It uses the README's fixed ports (8080 and 9000),
//! so it runs on SQLite only and fails plainly if something else holds them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::db::on_postgres;
use crate::harness::TempDir;

/// The ```sh blocks of the README section headed `heading`.
fn shell_blocks(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README has no '## {heading}'"));
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

/// The block with `cargo run --release` meaning the binary under test.
fn with_binary(block: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_herald");
    block
        .replace("cargo run --release --", bin)
        .replace("cargo run --release", bin)
}

/// Starts a long-running block; its stdout lines arrive on the channel.
fn spawn(dir: &std::path::Path, block: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new("bash")
        .args(["-c", with_binary(block).trim()])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a README command");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for a line containing `needle`.
fn wait_line(rx: &mpsc::Receiver<String>, needle: &str) {
    loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.contains(needle) => return,
            Ok(_) => continue,
            Err(e) => panic!("no line with '{needle}': {e}"),
        }
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn readme_walkthrough_works_as_written() {
    if on_postgres() {
        eprintln!("skipped: the walkthrough runs on the embedded SQLite");
        return;
    }
    let blocks = shell_blocks("Walkthrough");
    assert_eq!(blocks.len(), 6, "the walkthrough's shell blocks changed");
    let dir = TempDir::new("readme");

    let (herald, herald_out) = spawn(&dir.0, &blocks[0]);
    let _herald = Killed(herald);
    wait_line(&herald_out, "Herald listening on http://127.0.0.1:8080");
    let (listener, received) = spawn(&dir.0, &blocks[1]);
    let _listener = Killed(listener);
    wait_line(
        &received,
        "herald listen: receiving on http://127.0.0.1:9000",
    );

    // Blocks 3 to 6 share one shell, as in the README's third terminal; between them, the
    // time a reader takes: until the receiver has printed the delivery.
    let (publish, log, typo, shape) = (&blocks[2], &blocks[3], &blocks[4], &blocks[5]);
    let run = |script: String| {
        let out = Command::new("bash")
            .args(["-c", &script])
            .current_dir(&dir.0)
            .output()
            .expect("run README commands");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = run(format!(
        "{publish}\n\
         until curl -s \"localhost:8080/v1/apps/$APP/deliveries?status=succeeded\" \
           -H \"Authorization: Bearer $TOKEN\" | grep -q dlv_; do sleep 0.1; done\n\
         echo '-- log'\n{log}\necho '-- typo'\n{typo}\necho '-- shape'\n{shape}"
    ));
    wait_line(&received, "signature: valid (standard)");
    let (published, after) = out.split_once("-- log").expect("log marker");
    assert!(published.contains("\"deliveries\":1"), "{published}");
    let (log_out, after) = after.split_once("-- typo").expect("typo marker");
    let (typo_out, shape_out) = after.split_once("-- shape").expect("shape marker");
    assert!(log_out.contains("\"status\":\"succeeded\""), "{log_out}");
    assert!(log_out.contains("\"attempts\":[{"), "{log_out}");
    assert!(log_out.contains("\"status_code\":200"), "{log_out}");
    assert!(typo_out.contains("\"status\":422"), "{typo_out}");
    assert!(typo_out.contains("participant_joined"), "{typo_out}");
    assert!(shape_out.contains("\"status\":422"), "{shape_out}");
    assert!(shape_out.contains("data.participantId"), "{shape_out}");
}
