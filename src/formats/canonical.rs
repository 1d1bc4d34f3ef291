//! Canonical JSON as a Python receiver computes it.
//!
//! Attendee's receivers verify by re-serialising the parsed body with
//! `json.dumps(p, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, so Herald signs
//! (and sends) exactly those bytes: keys sorted, no spaces, non-ASCII as UTF-8, and floats
//! spelled the way Python's `repr` spells them (`1e+21`, `1e-07`, `-0.0`, `100.0`).

use serde_json::Value;

/// Serialises `value` in the canonical form.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value);
    out
}

fn write(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(&n.to_string())),
        // serde_json escapes exactly what Python's encoder escapes with ensure_ascii=False:
        // the quote, the backslash and the control characters below U+0020.
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                write(out, &map[key]);
            }
            out.push('}');
        }
    }
}

/// A JSON number as Python's `json.dumps(json.loads(text))` spells it: an integer exactly,
/// whatever its size (`-0` is `0`), a float by [`python_float`]. Numbers are kept as the
/// text the publisher wrote, so nothing was rounded before this point.
pub fn python_number(text: &str) -> String {
    if crate::domain::json::is_integer(text) {
        let digits = text.trim_start_matches('-');
        if digits.bytes().all(|b| b == b'0') {
            return "0".into();
        }
        return text.to_owned();
    }
    match text.parse::<f64>() {
        Ok(f) => python_float(f),
        Err(_) => text.to_owned(),
    }
}

/// Python's `repr(float)`: the shortest round-tripping digits, in positional notation when
/// the decimal exponent is in [-4, 16), otherwise in scientific notation with a signed,
/// at-least-two-digit exponent.
pub fn python_float(f: f64) -> String {
    if f.is_nan() || f.is_infinite() {
        return "null".into();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e21", "-0e0".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if (point as usize) >= digits.len() {
            format!(
                "{sign}{digits}{}.0",
                "0".repeat(point as usize - digits.len())
            )
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{sign}{int}.{frac}")
        }
    } else {
        let frac = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{frac}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_spelled_like_python() {
        let cases = [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e-7, "1e-07"),
            (-0.0, "-0.0"),
            (123456789.125, "123456789.125"),
            (2.5e-5, "2.5e-05"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (f, want) in cases {
            assert_eq!(python_float(f), want, "{f}");
        }
    }

    #[test]
    fn numbers_are_spelled_like_python_after_json_loads() {
        let cases = [
            ("18446744073709551617", "18446744073709551617"),
            ("-9223372036854775809", "-9223372036854775809"),
            ("9007199254740993", "9007199254740993"),
            ("-0", "0"),
            ("0", "0"),
            ("1.0", "1.0"),
            ("1e21", "1e+21"),
            ("1E2", "100.0"),
            ("1e-7", "1e-07"),
            ("-0.0", "-0.0"),
            ("1e-400", "0.0"),
        ];
        for (text, want) in cases {
            assert_eq!(python_number(text), want, "{text}");
        }
    }

    #[test]
    fn objects_sort_keys_and_keep_unicode() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"é":"café","c":[1.0,null]}}"#).unwrap_or_default();
        assert_eq!(to_string(&v), r#"{"a":{"c":[1.0,null],"é":"café"},"b":1}"#);
    }
}
