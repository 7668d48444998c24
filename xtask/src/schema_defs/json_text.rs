//! Edits of JSON text that touch only the parts they change.
//!
//! `values.schema.json` is written by people, in their key order, and others edit other parts of
//! it while we generate ours. serde_json (without `preserve_order`, which would be a new
//! dependency) sorts keys, so writing the file back from a `Value` would reorder every object in
//! it. Instead we find the byte span of the value to change and splice new text in: a member set
//! at a JSON pointer, or the members of one object rebuilt with some kept verbatim.

use crate::error::Error;
use std::ops::Range;

/// One member of a JSON object: its key, where its key's opening quote is, and its value's span.
#[derive(Debug, Clone)]
pub struct Member {
    pub key: String,
    pub start: usize,
    pub value: Range<usize>,
}

/// The span of the value at `pointer` (RFC 6901, through objects only, e.g. `/$defs/image`).
pub fn value_at(text: &str, pointer: &str) -> Result<Range<usize>, Error> {
    let start = skip_ws(text.as_bytes(), 0);
    let mut span = start..value_end(text, start)?;
    for token in pointer.split('/').skip(1) {
        let key = token.replace("~1", "/").replace("~0", "~");
        let member = members(text, span.clone())?
            .into_iter()
            .find(|m| m.key == key)
            .ok_or_else(|| Error::msg(format!("{pointer}: no member {key:?}")))?;
        span = member.value;
    }
    Ok(span)
}

/// The members of the object spanning `object`, in their order.
pub fn members(text: &str, object: Range<usize>) -> Result<Vec<Member>, Error> {
    let b = text.as_bytes();
    if b.get(object.start) != Some(&b'{') {
        return Err(Error::msg(format!(
            "expected an object at byte {}",
            object.start
        )));
    }
    let mut found = Vec::new();
    let mut i = skip_ws(b, object.start + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(found);
    }
    loop {
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_str(&text[i..key_end])
            .map_err(|e| Error::msg(format!("a key at byte {i}: {e}")))?;
        let colon = skip_ws(b, key_end);
        expect(b, colon, b':')?;
        let value_start = skip_ws(b, colon + 1);
        let end = value_end(text, value_start)?;
        found.push(Member {
            key,
            start: i,
            value: value_start..end,
        });
        let next = skip_ws(b, end);
        match b.get(next) {
            Some(b',') => i = skip_ws(b, next + 1),
            Some(b'}') => return Ok(found),
            _ => return Err(Error::msg(format!("expected , or }} at byte {next}"))),
        }
    }
}

/// `text` with the member `key` of the object at `pointer` set to `value` (JSON text): its old
/// value replaced in place, or a new last member on its own line like the others.
pub fn set_member(text: &str, pointer: &str, key: &str, value: &str) -> Result<String, Error> {
    let object = value_at(text, pointer)?;
    let found = members(text, object.clone())?;
    if let Some(m) = found.iter().find(|m| m.key == key) {
        return Ok(splice(text, m.value.clone(), value));
    }
    let quoted = serde_json::to_string(key).map_err(|e| Error::msg(e.to_string()))?;
    let Some(last) = found.last() else {
        let member = format!("{{{quoted}: {value}}}");
        return Ok(splice(text, object, &member));
    };
    let separator = match line_indent(text, last.start) {
        Some(indent) => format!(",\n{indent}"),
        None => ", ".into(),
    };
    let insert = format!("{separator}{quoted}: {}", reindent(value, &separator[1..]));
    Ok(splice(text, last.value.end..last.value.end, &insert))
}

/// `text` with the object at `pointer` rebuilt: the members `keep` accepts, verbatim and in their
/// order, then `append` (key and pretty-printed JSON value), one per line.
pub fn rebuild_object(
    text: &str,
    pointer: &str,
    keep: impl Fn(&str) -> bool,
    append: &[(String, String)],
) -> Result<String, Error> {
    let object = value_at(text, pointer)?;
    let found = members(text, object.clone())?;
    let closing = line_indent(text, object.end - 1).unwrap_or_default();
    let indent = found
        .first()
        .and_then(|m| line_indent(text, m.start))
        .unwrap_or_else(|| format!("{closing}  "));
    let mut parts: Vec<String> = found
        .iter()
        .filter(|m| keep(&m.key))
        .map(|m| text[m.start..m.value.end].to_string())
        .collect();
    for (key, value) in append {
        let quoted = serde_json::to_string(key).map_err(|e| Error::msg(e.to_string()))?;
        parts.push(format!(
            "{quoted}: {}",
            reindent(value, &format!("\n{indent}"))
        ));
    }
    let body = if parts.is_empty() {
        "{}".to_string()
    } else {
        format!(
            "{{\n{indent}{}\n{closing}}}",
            parts.join(&format!(",\n{indent}"))
        )
    };
    Ok(splice(text, object, &body))
}

/// Pretty-printed JSON moved right: every line after the first starts with `newline_indent`.
fn reindent(value: &str, newline_indent: &str) -> String {
    value.replace('\n', newline_indent)
}

/// The whitespace before `at` on its line, when nothing else is before it there.
fn line_indent(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    before
        .bytes()
        .all(|c| c == b' ' || c == b'\t')
        .then(|| before.to_string())
}

fn splice(text: &str, span: Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &text[..span.start], &text[span.end..])
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn expect(b: &[u8], i: usize, want: u8) -> Result<(), Error> {
    if b.get(i) == Some(&want) {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "expected {:?} at byte {i}",
            char::from(want)
        )))
    }
}

/// Where the string starting at `i` (its opening quote) ends, after its closing quote.
fn string_end(b: &[u8], i: usize) -> Result<usize, Error> {
    expect(b, i, b'"')?;
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return Ok(j + 1),
            _ => j += 1,
        }
    }
    Err(Error::msg(format!("the string at byte {i} is not closed")))
}

/// Where the value starting at `i` ends.
fn value_end(text: &str, i: usize) -> Result<usize, Error> {
    let b = text.as_bytes();
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{') => {
            let found = members(text, i..i)?;
            let after = found.last().map_or(i + 1, |m| m.value.end);
            let close = skip_ws(b, after);
            expect(b, close, b'}')?;
            Ok(close + 1)
        }
        Some(b'[') => {
            let mut j = skip_ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return Ok(j + 1);
            }
            loop {
                let end = value_end(text, j)?;
                let next = skip_ws(b, end);
                match b.get(next) {
                    Some(b',') => j = skip_ws(b, next + 1),
                    Some(b']') => return Ok(next + 1),
                    _ => return Err(Error::msg(format!("expected , or ] at byte {next}"))),
                }
            }
        }
        Some(_) => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            if j == i {
                return Err(Error::msg(format!("expected a value at byte {i}")));
            }
            Ok(j)
        }
        None => Err(Error::msg("the text ends where a value should be")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const TEXT: &str = "{\n  \"b\": {\"x\": [1, {\"y\": \"}\\\"\"}], \"z\": null},\n  \"a\": {\n    \"k\": true\n  },\n  \"$defs\": {\n    \"keep\": {\"type\": \"string\"},\n    \"io.k8s.old\": {}\n  }\n}\n";

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn finds_values_by_pointer_through_strings_that_look_like_json() {
        let span = value_at(TEXT, "/b/z").unwrap();
        assert_eq!(&TEXT[span], "null");
        let span = value_at(TEXT, "/b/x").unwrap();
        assert_eq!(parsed(&TEXT[span]), json!([1, {"y": "}\""}]));
        assert!(value_at(TEXT, "/b/nope")
            .unwrap_err()
            .to_string()
            .contains("no member \"nope\""));
    }

    #[test]
    fn set_member_adds_a_line_like_its_siblings_and_replaces_in_place() {
        let added = set_member(TEXT, "/a", "$ref", "\"#/$defs/keep\"").unwrap();
        assert!(
            added.contains("    \"k\": true,\n    \"$ref\": \"#/$defs/keep\"\n  }"),
            "{added}"
        );
        let replaced = set_member(&added, "/a", "$ref", "\"#/$defs/other\"").unwrap();
        assert_eq!(
            parsed(&replaced)["a"],
            json!({"k": true, "$ref": "#/$defs/other"})
        );
        // Everything else is untouched, byte for byte.
        assert_eq!(
            replaced.replace(",\n    \"$ref\": \"#/$defs/other\"", ""),
            TEXT
        );
        let inline = set_member(TEXT, "/b", "n", "1").unwrap();
        assert!(inline.contains("\"z\": null, \"n\": 1}"), "{inline}");
        let empty = set_member(TEXT, "/$defs/io.k8s.old", "n", "1").unwrap();
        assert_eq!(parsed(&empty)["$defs"]["io.k8s.old"], json!({"n": 1}));
    }

    #[test]
    fn rebuild_keeps_chosen_members_verbatim_and_appends_pretty_ones() {
        let appended = vec![(
            "io.k8s.new".to_string(),
            serde_json::to_string_pretty(&json!({"type": "object"})).unwrap(),
        )];
        let out = rebuild_object(TEXT, "/$defs", |k| !k.starts_with("io.k8s."), &appended).unwrap();
        assert!(
            out.ends_with("  \"$defs\": {\n    \"keep\": {\"type\": \"string\"},\n    \"io.k8s.new\": {\n      \"type\": \"object\"\n    }\n  }\n}\n"),
            "{out}"
        );
        assert!(out.starts_with(&TEXT[..TEXT.find("\"$defs\"").unwrap()]));
        let none = rebuild_object(TEXT, "/$defs", |_| false, &[]).unwrap();
        assert_eq!(parsed(&none)["$defs"], json!({}));
    }

    #[test]
    fn broken_text_is_an_error_not_a_panic() {
        for text in ["{\"a\": ", "{\"a\" 1}", "{\"a\": \"x}", "[1 2]", ""] {
            assert!(value_at(text, "/a").is_err(), "{text}");
        }
    }
}
