//! Reads YAML the way Kubernetes does.
//!
//! Helm, kubectl and the API server decode manifests with sigs.k8s.io/yaml, which is go-yaml v2
//! (YAML 1.1) followed by a conversion to JSON. A YAML 1.2 reader disagrees with it on plain
//! scalars: `0644` is the integer 420 to Kubernetes, `yes`/`on` are booleans, `1_000` is 1000.
//! A harness that read them differently would pass file modes Kubernetes rejects (or the other
//! way round), so this module resolves plain scalars with go-yaml v2's rules and refuses what
//! Kubernetes refuses (duplicate mapping keys, NaN and infinities, which JSON cannot carry).

use serde_json::{Map, Number, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML error with the 1-based line and column where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// Parses every document of a YAML stream into JSON values, as Kubernetes would see them.
/// Empty documents (only comments, or `---` with nothing after it) are left out.
pub fn parse_stream(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
    };
    let mut documents = Vec::new();
    loop {
        let (event, mark) = reader.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(documents),
            Event::DocumentStart => {
                let (event, mark) = reader.next()?;
                match event {
                    Event::DocumentEnd => {}
                    event => {
                        let value = reader.node(event, mark)?;
                        if !value.is_null() {
                            documents.push(value);
                        }
                    }
                }
            }
            other => return Err(error_at(mark, format!("unexpected YAML event {other:?}"))),
        }
    }
}

fn error_at(mark: Marker, message: String) -> YamlError {
    YamlError {
        line: mark.line(),
        column: mark.col() + 1,
        message,
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Value>,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        self.parser.next_token().map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Value, YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value =
                    resolve_scalar(&text, style, tag.as_ref()).map_err(|m| error_at(mark, m))?;
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::Alias(anchor) => self
                .anchors
                .get(&anchor)
                .cloned()
                .ok_or_else(|| error_at(mark, "alias to an unknown anchor".into())),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, mark)?);
                }
                let value = Value::Array(items);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::MappingStart(anchor, _) => {
                let value = Value::Object(self.mapping(mark)?);
                self.remember(anchor, &value);
                Ok(value)
            }
            other => Err(error_at(mark, format!("unexpected YAML event {other:?}"))),
        }
    }

    fn mapping(&mut self, start: Marker) -> Result<Map<String, Value>, YamlError> {
        let mut map = Map::new();
        // Keys that came from a `<<` merge may be overridden by explicit keys, as in go-yaml.
        let mut merged: HashSet<String> = HashSet::new();
        loop {
            let (event, key_mark) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Ok(map);
            }
            let is_merge =
                matches!(&event, Event::Scalar(k, TScalarStyle::Plain, _, None) if k == "<<");
            let key = self.node(event, key_mark)?;
            let (event, mark) = self.next()?;
            let value = self.node(event, mark)?;
            if is_merge {
                merge_into(&mut map, &mut merged, value).map_err(|m| error_at(mark, m))?;
                continue;
            }
            let key = json_key(&key).map_err(|m| error_at(key_mark, m))?;
            if map.contains_key(&key) && !merged.remove(&key) {
                return Err(error_at(
                    key_mark,
                    format!(
                        "mapping key {key:?} already defined in the mapping that starts at line {}; \
                         Kubernetes rejects duplicate keys, remove one of them",
                        start.line()
                    ),
                ));
            }
            map.insert(key, value);
        }
    }
}

fn merge_into(
    map: &mut Map<String, Value>,
    merged: &mut HashSet<String>,
    source: Value,
) -> Result<(), String> {
    let sources = match source {
        Value::Object(m) => vec![m],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                _ => Err("a `<<` merge list may hold only mappings".to_string()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("a `<<` merge takes a mapping or a list of mappings".into()),
    };
    for source in sources {
        for (k, v) in source {
            if !map.contains_key(&k) {
                merged.insert(k.clone());
                map.insert(k, v);
            }
        }
    }
    Ok(())
}

/// sigs.k8s.io/yaml turns non-string keys into their text form.
fn json_key(key: &Value) -> Result<String, String> {
    match key {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok("null".into()),
        _ => Err("a mapping key must be a scalar".into()),
    }
}

fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let tag = tag
        .filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!")
        .map(|t| t.suffix.as_str());
    match (style, tag) {
        (_, Some("str")) => Ok(Value::String(text.to_string())),
        (TScalarStyle::Plain, _) | (_, Some("int" | "float" | "bool" | "null")) => {
            resolve_plain(text)
        }
        _ => Ok(Value::String(text.to_string())),
    }
}

/// go-yaml v2's `resolve` for an untagged plain scalar, followed by the JSON conversion.
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => {
            return Err(format!(
                "{text} has no JSON form; Kubernetes cannot read it"
            ))
        }
        _ => {}
    }
    let Some(first) = text.chars().next() else {
        return Ok(Value::Null);
    };
    if first == '.' {
        return Ok(text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(json_float)
            .unwrap_or_else(|| Value::String(text.to_string())));
    }
    if !(first.is_ascii_digit() || first == '+' || first == '-') {
        return Ok(Value::String(text.to_string()));
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(int) = go_parse_int(&plain) {
        if let Ok(i) = i64::try_from(int) {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = u64::try_from(int) {
            return Ok(Value::Number(u.into()));
        }
    }
    if is_yaml_style_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            if f.is_finite() {
                return Ok(json_float(f));
            }
        }
    }
    Ok(Value::String(text.to_string()))
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`, `0o`, `0b` or a leading `0`
/// (octal) choose the base.
fn go_parse_int(s: &str) -> Option<i128> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()? as i128;
    Some(if negative { -magnitude } else { magnitude })
}

/// go-yaml v2: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => all_digits(frac),
        Some((int, frac)) => all_digits(int) && (frac.is_empty() || all_digits(frac)),
        None => all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// encoding/json writes a whole float64 without a fraction, so Kubernetes sees `1.0` as `1`.
fn json_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number((f as i64).into())
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Value {
        parse_stream(text).unwrap().remove(0)
    }

    #[test]
    fn octal_file_modes_are_read_as_kubernetes_reads_them() {
        assert_eq!(one("defaultMode: 0644"), json!({"defaultMode": 420}));
        assert_eq!(one("defaultMode: 0o644"), json!({"defaultMode": 420}));
        assert_eq!(one("defaultMode: 420"), json!({"defaultMode": 420}));
        assert_eq!(one("defaultMode: \"0644\""), json!({"defaultMode": "0644"}));
        // Not valid octal: go-yaml falls through to a float, which JSON writes as 9.
        assert_eq!(one("m: 09"), json!({"m": 9}));
    }

    #[test]
    fn yaml_1_1_booleans_nulls_and_numbers() {
        let v = one("a: yes\nb: off\nc: ~\nd: 1_000\ne: 0x1F\nf: 1.5\ng: '1.5'\nh: 1e3\ni: 0b101\nj: -12\nk: 2001-12-14");
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": null, "d": 1000, "e": 31, "f": 1.5, "g": "1.5",
                   "h": 1000, "i": 5, "j": -12, "k": "2001-12-14"})
        );
    }

    #[test]
    fn quoted_and_block_scalars_stay_strings() {
        let v = one("a: \"yes\"\nb: |\n  0644\nc: !!str 12\nd: !!int \"12\"");
        assert_eq!(v, json!({"a": "yes", "b": "0644\n", "c": "12", "d": 12}));
    }

    #[test]
    fn duplicate_keys_are_an_error_with_their_line() {
        let err = parse_stream("metadata:\n  name: a\n  name: b\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("\"name\" already defined"), "{err}");
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let v = one("base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  b: 3\nlist: [*b]");
        assert_eq!(v["other"], json!({"a": 1, "b": 3}));
        assert_eq!(v["list"], json!([{"a": 1, "b": 2}]));
        // YAML 1.1 reads the keys y and n as booleans, as Kubernetes does.
        assert_eq!(one("y: 1"), json!({"true": 1}));
    }

    #[test]
    fn several_documents_and_empty_ones() {
        let docs = parse_stream("---\n# only a comment\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn nan_and_infinity_are_refused() {
        assert!(parse_stream("a: .nan").is_err());
        assert!(parse_stream("a: -.inf").is_err());
    }

    #[test]
    fn numeric_keys_become_strings() {
        assert_eq!(one("1: a\ntrue: b"), json!({"1": "a", "true": "b"}));
    }
}
