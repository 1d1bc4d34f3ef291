//! The dashboard's pages in `--run queries`: at the same million events, the server time of
//! the pages a support engineer opens (an app's events, a room, a delivery), signed in as a
//! browser is, through the session cookie.

use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::Value;

/// How many times each page is fetched.
const REPEAT: usize = 40;

/// Signs in to the dashboard with `token`; answers the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/ui/sign-in"))
        .form(&[("token", token)])
        .send()
        .await?;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .context("the dashboard set no session cookie")?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

/// Median and p99 of [`REPEAT`] GETs of the page `path(i)`, in ms.
async fn time(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &dyn Fn(usize) -> String,
) -> anyhow::Result<(f64, f64)> {
    let mut ms = Vec::with_capacity(REPEAT);
    for i in 0..REPEAT {
        let url = format!("{base}{}", path(i));
        let t = Instant::now();
        let resp = client.get(&url).header("cookie", cookie).send().await?;
        let status = resp.status();
        let _ = resp.bytes().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("GET {url} answered {status}");
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.99)))
}

/// A page's path for the `i`-th fetch.
type PathOf<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// Times the app's events page, a room's page and a delivery's page; prints one line each.
pub async fn run(base: &str, token: &str, app: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&client, base, token).await?;
    let newest: Value = client
        .get(format!("{base}/v1/apps/{app}/deliveries?limit=1"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let dlv = newest["data"][0]["id"]
        .as_str()
        .context("no delivery to open")?
        .to_owned();
    let pages: Vec<(&str, PathOf<'_>)> = vec![
        (
            "the events page",
            Box::new(move |_| format!("/ui/apps/{app}")),
        ),
        (
            "a room's page",
            Box::new(move |i| format!("/ui/apps/{app}/rooms/room-{}", i * 7 % 1000)),
        ),
        (
            "a delivery's page",
            Box::new(move |_| format!("/ui/apps/{app}/deliveries/{dlv}")),
        ),
    ];
    for (name, path) in &pages {
        let (p50, p99) = time(&client, base, &cookie, path.as_ref()).await?;
        println!("queries: dashboard, {name}: median {p50:.1} ms, p99 {p99:.1} ms");
    }
    Ok(())
}
