//! The code's shape, checked: no file in `src/` over 300 lines, no function over 60. Files of
//! one concern and functions that fit a screen are what keep each rule in one findable place.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 300;
const MAX_FN_LINES: usize = 60;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The line without its string literals and its `//` comment, for counting braces.
fn code_of(line: &str) -> String {
    let (mut out, mut in_str, mut escaped) = (String::new(), false, false);
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.get(i + 1) == Some(&'/') => break,
            // A char literal of a brace ('{' or '}') is no brace.
            '\'' if chars.get(i + 2) == Some(&'\'') => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn is_fn_start(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("pub ").unwrap_or(t);
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub(super) "))
        .unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    let t = t.strip_prefix("const ").unwrap_or(t);
    t.starts_with("fn ")
}

/// The length in lines of each function of `text`, with its first line.
fn functions(text: &str) -> Vec<(usize, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        if !is_fn_start(line) {
            continue;
        }
        let (mut depth, mut opened) = (0i64, false);
        for (end, body) in lines.iter().enumerate().skip(start) {
            let code = code_of(body);
            for c in code.chars() {
                match c {
                    '{' => (depth, opened) = (depth + 1, true),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
                found.push((start + 1, end - start + 1, line.trim().to_owned()));
                break;
            }
        }
    }
    found
}

#[test]
fn files_and_functions_stay_small() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut over = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read a source file");
        let name = path.display().to_string();
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            over.push(format!("{name}: {lines} lines"));
        }
        for (at, len, first) in functions(&text) {
            if len > MAX_FN_LINES {
                over.push(format!("{name}:{at}: {len} lines: {first}"));
            }
        }
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    assert!(over.is_empty(), "over the bounds:\n{}", over.join("\n"));
}

#[test]
fn the_counter_sees_a_long_function() {
    let body = "    let x = 1;\n".repeat(70);
    let text = format!("fn long() {{\n{body}}}\nfn short() {{ \"}}\" }}\n");
    let found = functions(&text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].1, 72);
    assert_eq!(found[1].1, 1);
}
