//! Building an endpoint from a request: defaults from its format, every field checked, the
//! event names checked against the app's catalog. Shared by the API and by the endpoints
//! the configuration file declares.

use chrono::Utc;

use super::endpoint_input::{parse_events, parse_format, parse_url, EndpointInput};
use super::error::{ApiError, ApiResult};
use super::event_types::check_known;
use super::AppState;
use crate::domain::endpoint::{EndpointKind, Subscription};
use crate::domain::verification::{VerificationMode, VerificationState};
use crate::domain::{
    App, Endpoint, EndpointId, EndpointSecret, EndpointUrl, FieldError, FormatKind, LabelFilter,
    Signing,
};
use crate::formats::{format_for, Defaults};

/// Max requests in flight per endpoint unless it says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 50;

/// A new endpoint of `app` from `input` (not stored yet).
pub async fn new_endpoint(
    state: &AppState,
    app: &App,
    mut input: EndpointInput,
) -> ApiResult<Endpoint> {
    let mut errors = Vec::new();
    let kind = input.kind.take().unwrap_or_default();
    let url = url_of(state, input.url.take(), kind, true)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let format = match input.format.take() {
        Some(raw) => parse_format(&raw)?,
        None => Some(app.preset.default_format())
            .filter(|f| format_for(*f).is_some())
            .unwrap_or(FormatKind::Standard),
    };
    let defaults = format_for(format)
        .map(|f| f.defaults())
        .ok_or_else(|| ApiError::field("format", "unavailable"))?;
    let events = input.events.take().unwrap_or_else(|| vec!["*".into()]);
    let (subscription, named) = parse_events(&events)
        .map_err(|e| errors.push(e))
        .unwrap_or((Subscription::Types(Default::default()), Vec::new()));
    let secret = input_secret(&input, format, None)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let mut ep = fresh(app, format, defaults);
    ep.kind = kind;
    ep.verification = input.verification.take().unwrap_or_default();
    if let Some(url) = url {
        ep.url = url;
    }
    ep.events = subscription;
    if let Some(secret) = secret {
        ep.secret = secret;
    }
    input.apply_settings(&mut ep, &mut errors);
    check_data_only(&ep, &mut errors);
    reverify(&mut ep, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    check_known(state, app, "events", &named).await?;
    Ok(ep)
}

/// Only the `standard` format's body is an envelope that `data` can be sent without.
fn check_data_only(ep: &Endpoint, errors: &mut Vec<FieldError>) {
    if ep.data_only && ep.format != FormatKind::Standard {
        let why = "applies to standard endpoints only";
        errors.push(FieldError::new("data_only", why));
    }
}

/// A new URL or verification mode, which starts verification over.
fn patch_url(
    state: &AppState,
    ep: &mut Endpoint,
    input: &mut EndpointInput,
    errors: &mut Vec<FieldError>,
) {
    let before = (ep.url.clone(), ep.verification);
    match url_of(state, input.url.take(), ep.kind, false) {
        Ok(Some(url)) => ep.url = url,
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    ep.verification = input.verification.take().unwrap_or(ep.verification);
    if (ep.url.clone(), ep.verification) != before {
        reverify(ep, errors);
    }
}

/// Starts verification over, for a new endpoint or one whose URL or verification changed.
fn reverify(ep: &mut Endpoint, errors: &mut Vec<FieldError>) {
    if ep.kind == EndpointKind::Polling && ep.verification != VerificationMode::None {
        let why = "a polling endpoint has no url to verify";
        errors.push(FieldError::new("verification", why));
    }
    ep.verification_state = VerificationState::fresh(ep.verification);
}

/// The secret a request asks for: the one it gives (`secret`, or `authorization_header` on
/// `digitalsamba`), else a fresh one of the `signing` it names, else of `keep` (a rotation keeps
/// the scheme it had); `None` when the request says nothing.
pub fn input_secret(
    input: &EndpointInput,
    format: FormatKind,
    keep: Option<Signing>,
) -> Result<Option<EndpointSecret>, FieldError> {
    if let Some(h) = &input.authorization_header {
        if format != FormatKind::Digitalsamba {
            return Err(FieldError::new(
                "authorization_header",
                "applies to digitalsamba endpoints only; use `secret`",
            ));
        }
        return EndpointSecret::parse("authorization_header", format, h).map(Some);
    }
    let given = input
        .secret
        .as_deref()
        .map(|s| EndpointSecret::parse("secret", format, s))
        .transpose()?;
    match (given, input.signing.or(keep)) {
        (Some(s), Some(want)) if input.signing.is_some() && s.signing() != want => Err(
            FieldError::new("signing", "does not match the scheme of the given `secret`"),
        ),
        (Some(s), _) => Ok(Some(s)),
        (None, Some(want)) => want.generate("signing", format).map(Some),
        (None, None) => Ok(None),
    }
}

/// The URL a request gives, checked: a push endpoint has one (`required` on create), a
/// polling endpoint none.
fn url_of(
    state: &AppState,
    raw: Option<String>,
    kind: EndpointKind,
    required: bool,
) -> Result<Option<EndpointUrl>, FieldError> {
    match (raw, kind) {
        (Some(_), EndpointKind::Polling) => {
            Err(FieldError::new("url", "a polling endpoint has no url"))
        }
        (Some(raw), EndpointKind::Push) => {
            parse_url(&raw, &state.policy, state.settings.https_only).map(Some)
        }
        (None, EndpointKind::Push) if required => Err(FieldError::new("url", "is required")),
        (None, _) => Ok(None),
    }
}

/// A new endpoint of `app` in `format` with every setting at its default (and no URL yet).
fn fresh(app: &App, format: FormatKind, defaults: Defaults) -> Endpoint {
    let now = Utc::now();
    Endpoint {
        id: EndpointId::new(),
        app_id: app.id.clone(),
        kind: EndpointKind::Push,
        url: EndpointUrl::from_trusted(String::new()),
        name: String::new(),
        description: String::new(),
        format,
        events: Subscription::Types(Default::default()),
        filter: LabelFilter::default(),
        headers: Default::default(),
        timeout_ms: defaults.timeout_ms,
        retry_schedule_s: defaults.retry_schedule,
        max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        rate_limit_per_s: None,
        ordering: defaults.ordering,
        api_key: matches!(format, FormatKind::Livekit | FormatKind::Plugnmeet)
            .then(|| super::auth::new_token("API")[..15].to_owned()),
        include_members: false,
        data_only: false,
        content_type: None,
        expires_at: None,
        enabled: true,
        disabled_reason: None,
        disable_after_s: None,
        ttl_s: None,
        health: Default::default(),
        verification: VerificationMode::None,
        verification_state: VerificationState::default(),
        metadata: serde_json::json!({}),
        created_at: now,
        updated_at: now,
        secret: EndpointSecret::generate(format),
        previous_secret: None,
    }
}

/// `ep` with the fields `input` carries applied (not stored yet). The secret may be set only
/// when `allow_secret` (the API rotates secrets through its own route).
pub async fn patched(
    state: &AppState,
    app: &App,
    mut ep: Endpoint,
    mut input: EndpointInput,
    allow_secret: bool,
) -> ApiResult<Endpoint> {
    let mut errors = Vec::new();
    if let Some(f) = input.format.take() {
        if FormatKind::parse(&f) != Some(ep.format) {
            errors.push(FieldError::new(
                "format",
                "cannot change after creation; create a new endpoint",
            ));
        }
    }
    match input_secret(&input, ep.format, None) {
        Ok(Some(_)) if !allow_secret => {
            let field = if input.signing.is_some() {
                "signing"
            } else {
                "secret"
            };
            errors.push(FieldError::new(field, "use POST .../secret/rotate"))
        }
        Ok(Some(secret)) => ep.secret = secret,
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    if input.kind.take().is_some_and(|k| k != ep.kind) {
        errors.push(FieldError::new(
            "kind",
            "cannot change after creation; create a new endpoint",
        ));
    }
    patch_url(state, &mut ep, &mut input, &mut errors);
    let mut named = Vec::new();
    if let Some(events) = input.events.take() {
        match parse_events(&events) {
            Ok((sub, n)) => {
                ep.events = sub;
                named = n;
            }
            Err(e) => errors.push(e),
        }
    }
    input.apply_settings(&mut ep, &mut errors);
    check_data_only(&ep, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    check_known(state, app, "events", &named).await?;
    Ok(ep)
}
