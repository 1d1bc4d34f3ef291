//! What JSON Herald accepts in an event, so that every wire format can carry it faithfully.
//!
//! `standard` and `digitalsamba` embed the publisher's bytes, but the LiveKit family and
//! Sendbird spread `data` into their own object, and Attendee re-serialises it canonically
//! the way its Python receivers do. A value those formats cannot render exactly must be
//! refused at publish, never acknowledged and then changed on the wire. Numbers are kept as
//! the text the publisher wrote (serde_json's `arbitrary_precision`), so big integers pass
//! through exactly; what remains to refuse is what no receiver could read back as published:
//!
//! - floats beyond the range of a 64-bit float (`1e999`: Python reads it as `inf`);
//! - integers of more than [`MAX_INT_DIGITS`] digits (Python refuses to parse them);
//! - nesting deeper than [`MAX_DEPTH`] levels;
//! - strings with an unpaired surrogate escape (`"\ud800"`), which is not Unicode text.

use serde_json::Value;

use super::FieldError;

/// Levels of nesting allowed, counting the outer object itself as one.
pub const MAX_DEPTH: usize = 64;
/// Digits an integer may have: Python's default limit for converting text to `int`.
pub const MAX_INT_DIGITS: usize = 4300;

/// Parses `text` as JSON (numbers keep their digits; an exponent may gain its `+`) that every format renders faithfully; errors name the path inside
/// `field` (`data.a[2].v: number out of range`).
pub fn parse_faithful(field: &str, text: &str) -> Result<Value, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: Value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = join(field, &e.path().to_string());
        let inner = e.into_inner();
        if inner.to_string().starts_with("recursion limit exceeded") {
            too_deep(field)
        } else {
            FieldError::new(path, format!("invalid JSON: {inner}"))
        }
    })?;
    check(field, &mut Vec::new(), &value)?;
    Ok(value)
}

/// Whether a number's text is an integer (no fraction, no exponent).
pub fn is_integer(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

fn join(field: &str, path: &str) -> String {
    match path {
        "" | "." => field.to_owned(),
        p if p.starts_with('[') => format!("{field}{p}"),
        p => format!("{field}.{p}"),
    }
}

fn too_deep(field: &str) -> FieldError {
    FieldError::new(field, format!("nested deeper than {MAX_DEPTH} levels"))
}

/// One step of the path to a value, kept as a borrow while walking; spelled out only for
/// an error.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn spell(root: &str, path: &[Step<'_>]) -> String {
    let mut out = root.to_owned();
    for step in path {
        match step {
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Walks `value`, found at `path` inside `root` (`path.len() + 1` levels down).
fn check<'a>(root: &str, path: &mut Vec<Step<'a>>, value: &'a Value) -> Result<(), FieldError> {
    let nests = matches!(value, Value::Array(_) | Value::Object(_));
    if nests && path.len() >= MAX_DEPTH {
        return Err(too_deep(root));
    }
    match value {
        Value::Number(n) if !number_in_range(n.as_str()) => {
            Err(FieldError::new(spell(root, path), "number out of range"))
        }
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            path.push(Step::Index(i));
            let checked = check(root, path, item);
            path.pop();
            checked
        }),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            path.push(Step::Key(key));
            let checked = check(root, path, item);
            path.pop();
            checked
        }),
        _ => Ok(()),
    }
}

fn number_in_range(text: &str) -> bool {
    if is_integer(text) {
        text.trim_start_matches('-').len() <= MAX_INT_DIGITS
    } else {
        text.parse::<f64>().is_ok_and(f64::is_finite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        // `levels` counts the outer object: {"v":[[...]]}.
        format!(
            "{{\"v\":{}{}}}",
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        )
    }

    #[test]
    fn refuses_what_a_format_would_change_and_names_the_field() {
        let cases = [
            (r#"{"v": 1e999}"#, "data.v: number out of range"),
            (r#"{"a": [1, -1E400]}"#, "data.a[1]: number out of range"),
            (
                &format!("{{\"v\": {}}}", "9".repeat(MAX_INT_DIGITS + 1)),
                "data.v: number out of range",
            ),
            (&nested(MAX_DEPTH + 1), "data: nested deeper than 64 levels"),
            (&nested(200), "data: nested deeper than 64 levels"),
        ];
        for (text, want) in cases {
            let err = parse_faithful("data", text).expect_err(text);
            assert_eq!(err.to_string(), want, "{text}");
        }
        let err = parse_faithful("data", r#"{"s": {"t": "\ud800"}}"#).expect_err("surrogate");
        assert_eq!(err.field, "data.s.t", "{err}");
        assert!(err.message.contains("escape"), "{}", err.message);
    }

    #[test]
    fn keeps_numbers_exactly_as_written() {
        let text = r#"{"big": 18446744073709551617, "neg": -9223372036854775809, "f": 1.0, "e": 1e21, "z": -0}"#;
        let v = parse_faithful("data", text).expect("valid");
        assert_eq!(
            v.to_string(),
            r#"{"big":18446744073709551617,"neg":-9223372036854775809,"f":1.0,"e":1e+21,"z":-0}"#
        );
        parse_faithful("data", &nested(MAX_DEPTH)).expect("at the limit");
        parse_faithful(
            "data",
            &format!("{{\"v\": {}}}", "9".repeat(MAX_INT_DIGITS)),
        )
        .expect("digits at the limit");
    }
}
