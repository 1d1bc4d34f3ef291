//! The layered configuration, loaded as an operator writes it.

use std::time::Duration;

use super::*;

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment's test jail fixes the closure's error type"
)]
fn env_overrides_defaults_and_csv_lists_parse() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "herald.toml",
            "listen = \"127.0.0.1:9000\"\nmax_event_bytes = 4096\n",
        )?;
        jail.set_env("HERALD_ALLOW_DESTINATIONS", "127.0.0.0/8, 10.0.0.0/8");
        jail.set_env("HERALD_DATABASE_URL", "sqlite://x.db");
        let cfg = Config::load(
            Path::new("herald.toml"),
            Serialized::defaults(serde_json::json!({})),
        )
        .map_err(|e| e.to_string())?;
        assert_eq!(cfg.listen, "127.0.0.1:9000");
        assert_eq!(cfg.max_event_bytes, 4096);
        assert_eq!(cfg.database_url, "sqlite://x.db");
        let settings = cfg.validate().map_err(|e| e.to_string())?;
        assert_eq!(settings.allow_destinations.len(), 2);
        Ok(())
    });
}

#[test]
fn shipped_example_is_valid_and_documents_the_defaults() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/herald.example.toml"));
    let raw = std::fs::read_to_string(path).unwrap_or_default();
    let from_file: Config = toml_value(&raw);
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    assert_eq!(
        serde_json::to_value(from_file).unwrap_or_default(),
        defaults
    );
    for key in defaults.as_object().into_iter().flatten().map(|(k, _)| k) {
        assert!(
            raw.contains(&format!("{key} =")),
            "herald.example.toml does not document {key}"
        );
    }
}

fn toml_value(raw: &str) -> Config {
    Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(raw))
        .extract()
        .unwrap_or_else(|e| panic!("herald.example.toml: {e}"))
}

#[test]
fn bad_cidr_is_named() {
    let cfg = Config {
        allow_destinations: vec!["nope".into()],
        ..Config::default()
    };
    let err = cfg
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("allow_destinations"), "{err}");
}

#[test]
fn secrets_never_reach_debug_or_display() {
    let cfg = Config {
        admin_token: Some(Secret::new("hadm_sup3r-secret-token".into())),
        database_url: "postgres://herald:hunter2-password@db.example.com:5432/herald".into(),
        ..Config::default()
    };
    let settings = cfg.validate().expect("valid");
    let shown = format!("{settings:?} {}", settings.database_url);
    assert!(
        !shown.contains("sup3r") && !shown.contains("hunter2"),
        "{shown}"
    );
    assert!(shown.contains("db.example.com"), "{shown}");
    let ingest = crate::domain::LivekitIngest {
        api_key: "APIkey".into(),
        api_secret: "lk-secret-0123456789".into(),
    };
    assert!(!format!("{ingest:?}").contains("lk-secret"));
}

#[test]
fn periods_parse_as_operators_write_them() {
    let mut cfg = Config {
        retention_events: "12h".into(),
        retention_attempt_bodies: "forever".into(),
        disable_after: "90s".into(),
        ..Config::default()
    };
    let settings = cfg.clone().validate().expect("valid");
    assert_eq!(
        settings.retention.events,
        Some(Duration::from_secs(12 * 3600))
    );
    assert_eq!(settings.retention.bodies, None);
    assert_eq!(
        settings.breaker.disable_after,
        Some(Duration::from_secs(90))
    );
    for bad in ["0s", "soon", "-5d", ""] {
        cfg.retention_events = bad.into();
        let err = cfg.clone().validate().err().map(|e| e.to_string());
        assert!(
            err.is_some_and(|e| e.starts_with("retention_events:")),
            "{bad}"
        );
    }
}
