//! Test harness: a real `herald` process on a random port, and real HTTP receivers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use crate::db::TestDb;

pub const ADMIN: &str = "test-admin-token-0123456789";

/// A `herald serve` child process, killed when dropped.
pub struct Herald {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
    /// What the process printed before it listened (e.g. a generated admin token).
    pub startup: Vec<String>,
}

impl Herald {
    /// Starts Herald on the test database of `dir` (see [`TempDir`]).
    pub fn start(dir: &Path) -> Herald {
        Self::start_with(dir, &[])
    }

    /// Starts Herald with extra environment variables; an empty value removes the variable.
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Herald {
        Self::start_under(dir, env, &[])
    }

    /// Starts Herald as the last arguments of `wrapper` (e.g. `prlimit --nofile=...`).
    pub fn start_under(dir: &Path, env: &[(&str, &str)], wrapper: &[&str]) -> Herald {
        let db = database_url(dir);
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(env!("CARGO_BIN_EXE_herald"));
                cmd
            }
            None => Command::new(env!("CARGO_BIN_EXE_herald")),
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
            .env("HERALD_ADMIN_TOKEN", ADMIN)
            .env("HERALD_ALLOW_DESTINATIONS", "127.0.0.0/8")
            .env("HERALD_CONFIG", dir.join("absent.toml"))
            .env("HERALD_POLL_INTERVAL_MS", "100")
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let mut child = cmd.spawn().expect("spawn herald");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut startup = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("herald exited before listening")
                .expect("read stdout");
            if let Some(url) = line.strip_prefix("Herald listening on ") {
                break url.trim().to_owned();
            }
            startup.push(line);
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        // Herald closes connections idle for 60 s (http_idle_timeout_s); a client that kept
        // one longer could send on a socket being closed under it.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Herald {
            child,
            base,
            client,
            startup,
        }
    }

    /// Sends a request with the admin token; answers status, content type and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String, Value) {
        self.call_as(ADMIN, method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            ct,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    pub async fn create_app(&self, preset: &str) -> String {
        let (status, _, app) = self
            .call(
                "POST",
                "/v1/apps",
                Some(json!({"name": "test", "preset": preset})),
            )
            .await;
        assert_eq!(status, 201, "{app}");
        app["id"].as_str().expect("app id").to_owned()
    }

    /// Creates an endpoint; answers its id and secret.
    pub async fn create_endpoint(&self, app: &str, body: Value) -> (String, String) {
        let (status, _, ep) = self
            .call("POST", &format!("/v1/apps/{app}/endpoints"), Some(body))
            .await;
        assert_eq!(status, 201, "{ep}");
        (
            ep["id"].as_str().expect("id").to_owned(),
            ep["secret"].as_str().expect("secret").to_owned(),
        )
    }

    pub async fn publish(&self, app: &str, body: Value) -> (u16, Value) {
        let (status, _, v) = self
            .call("POST", &format!("/v1/apps/{app}/events"), Some(body))
            .await;
        (status, v)
    }

    /// Polls `path` until `done` holds for its JSON, or panics after `limit`.
    pub async fn wait_for(
        &self,
        path: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (_, _, v) = self.call("GET", path, None).await;
            if done(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (10 s at most) until the app's newest delivery has `status`; answers it with
    /// its attempts.
    pub async fn newest_delivery(&self, app: &str, status: &str) -> Value {
        let list = self
            .wait_for(
                &format!("/v1/apps/{app}/deliveries"),
                Duration::from_secs(10),
                |v| v["data"][0]["status"] == status,
            )
            .await;
        let dlv = list["data"][0]["id"].as_str().expect("id");
        let (_, _, detail) = self
            .call("GET", &format!("/v1/apps/{app}/deliveries/{dlv}"), None)
            .await;
        detail
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh directory and database for one test, both removed when dropped.
pub struct TempDir(pub PathBuf, pub TestDb);

/// The URL of the database [`TempDir::new`] made for `dir`.
pub fn database_url(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("database_url")).expect("a directory made by TempDir")
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "herald-e2e-{name}-{}-{}",
            std::process::id(),
            rand_suffix() % 1_000_000_000
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let db = TestDb::new(&dir);
        std::fs::write(dir.join("database_url"), &db.url).expect("write database_url");
        TempDir(dir, db)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn rand_suffix() -> u64 {
    rand::random::<u64>()
}

/// Runs a Python script of this directory on `doc`, written to a JSON file whose path is its
/// one argument; answers whether it exited 0, and its output.
pub fn python_on_json(script: &str, doc: &Value) -> (bool, String) {
    let path = std::env::temp_dir().join(format!(
        "herald-doc-{}-{}.json",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&path, doc.to_string()).expect("write the document");
    let script = format!("{}/tests/e2e/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&path);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Runs a Python script of this directory with `args` and a request written as JSON
/// (`{"headers", "body"}`) as its last argument; answers whether it exited 0, and its output.
pub fn python_on_request(
    script: &str,
    args: &[&str],
    req: &crate::receiver::Received,
) -> (bool, String) {
    let headers: serde_json::Map<String, Value> = req
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let body = String::from_utf8(req.body.clone()).expect("utf-8 body");
    let path = std::env::temp_dir().join(format!(
        "herald-req-{}-{}.json",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&path, json!({"headers": headers, "body": body}).to_string())
        .expect("write request");
    let script = format!("{}/tests/e2e/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .arg(&path)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&path);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `herald verify` on a received request; answers whether it said genuine, and its output.
pub fn herald_verify(
    format: &str,
    secret: &str,
    key: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
    at: Option<i64>,
) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!(
        "herald-verify-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let block: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    std::fs::write(dir.join("headers"), block).expect("write headers");
    std::fs::write(dir.join("body"), body).expect("write body");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args([
        "verify",
        "--format",
        format,
        "--secret",
        secret,
        "--headers",
    ])
    .arg(dir.join("headers"))
    .arg("--body")
    .arg(dir.join("body"));
    if let Some(k) = key {
        cmd.args(["--key", k]);
    }
    if let Some(t) = at {
        cmd.args(["--at", &t.to_string()]);
    }
    let out = cmd.output().expect("run herald verify");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
