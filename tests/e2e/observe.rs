//! Reading a running Herald from outside as an operator would: signals to its process, its
//! `/metrics`, and whole lists through their pages.

use serde_json::Value;

use crate::harness::Herald;

impl Herald {
    /// Sends `signal` (as `kill` names it: `STOP`, `CONT`, `TERM`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// The sum of every series of the metric `name` in `/metrics` (0 when it has none).
    pub async fn metric(&self, name: &str) -> f64 {
        let resp = self.client.get(format!("{}/metrics", self.base)).send();
        let text = resp.await.expect("metrics").text().await.expect("text");
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Every item of a paged list (`path` may carry a query already).
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let page_path = match &cursor {
                Some(c) => format!("{path}{sep}limit=100&after={c}"),
                None => format!("{path}{sep}limit=100"),
            };
            let (status, _, page) = self.call("GET", &page_path, None).await;
            assert_eq!(status, 200, "{page_path}: {page}");
            items.extend(page["data"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}
