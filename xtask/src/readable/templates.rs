//! The chart's templates read as the YAML they make: no line longer than [`MAX_LINE`], and no
//! YAML put together inside a `print`/`printf` string (a helper returning YAML, or YAML written
//! out in the template, says what it makes; a format string with `\n` and keys hides it).

/// The longest template line, in characters.
pub const MAX_LINE: usize = 120;

/// A place in a template to change, with why.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub problem: String,
}

/// Lines longer than [`MAX_LINE`] characters.
pub fn long_lines(text: &str) -> Vec<Finding> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let length = line.chars().count();
            (length > MAX_LINE).then(|| Finding {
                line: i + 1,
                problem: format!(
                    "{length} characters, over {MAX_LINE}: break the action across lines (Go \
                     templates take newlines inside an action's parentheses), build it in steps, \
                     or split a long string with print \"…\" \"…\""
                ),
            })
        })
        .collect()
}

/// String literals of `print`/`printf` calls that put YAML together: a string with `\n` in it
/// whose lines are keys (`name: …`), list items (`- …`) or only `%s`/`%v` joining blocks.
pub fn yaml_in_print(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    for action in actions(text) {
        if !calls_print(action.body) {
            continue;
        }
        for (offset, literal) in string_literals(action.body) {
            if builds_yaml(literal) {
                let line = action.line + action.body[..offset].matches('\n').count();
                found.push(Finding {
                    line,
                    problem: format!(
                        "YAML built in a print/printf string ({}): write it out as YAML in the \
                         template, or have a helper return it and use toYaml/nindent",
                        shorten(literal)
                    ),
                });
            }
        }
    }
    found
}

/// One `{{ … }}` action: its text and the line it starts on.
struct Action<'a> {
    line: usize,
    body: &'a str,
}

fn actions(text: &str) -> Vec<Action<'_>> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let start = consumed + open;
        found.push(Action {
            line: text[..start].matches('\n').count() + 1,
            body: &text[start + 2..start + close],
        });
        consumed = start + close + 2;
        rest = &text[consumed..];
    }
    found
}

fn calls_print(action: &str) -> bool {
    action
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'))
        .any(|word| word == "print" || word == "printf")
}

/// The double-quoted string literals of an action, with their byte offsets (escapes kept).
fn string_literals(action: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let bytes = action.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                found.push((i, &action[start..j.min(bytes.len())]));
                i = j + 1;
            }
            // A raw string or a comment holds no print argument of ours.
            b'`' => i += action[i + 1..].find('`').map_or(bytes.len(), |n| n + 2),
            b'/' if action[i..].starts_with("/*") => {
                i += action[i..].find("*/").map_or(bytes.len(), |n| n + 2)
            }
            _ => i += 1,
        }
    }
    found
}

fn builds_yaml(literal: &str) -> bool {
    if !literal.contains("\\n") {
        return false;
    }
    let lines: Vec<&str> = literal.split("\\n").map(str::trim).collect();
    let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
    let only_blocks = !words.is_empty() && words.iter().all(|w| *w == "%s" || *w == "%v");
    only_blocks || lines.iter().any(|l| is_key(l) || l.starts_with("- "))
}

/// `name:` or `name: value`, as a YAML mapping key starts.
fn is_key(line: &str) -> bool {
    let Some((key, after)) = line.split_once(':') else {
        return false;
    };
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
        && (after.is_empty() || after.starts_with(' '))
}

fn shorten(literal: &str) -> String {
    let mut short: String = literal.chars().take(60).collect();
    if short.len() < literal.len() {
        short.push('…');
    }
    format!("\"{short}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_limit_is_found_by_its_number() {
        let text = format!("short\n{}\n{}\n", "x".repeat(120), "é".repeat(121));
        let found = long_lines(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        assert!(found[0].problem.starts_with("121 characters"));
    }

    #[test]
    fn yaml_in_a_format_string_is_found_on_its_line() {
        let text = "a: 1\n{{- $extra := printf \"ports:\\n  - name: http\\n%s\" $x }}\n";
        let found = yaml_in_print(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 2);
        let joined = "{{- printf \"%s\\n%s\"\n  (toYaml $a) (toYaml $b) }}";
        assert_eq!(yaml_in_print(joined).len(), 1);
        let later = "{{- print \"x\"\n  \"- name: a\\n\" }}";
        assert_eq!(yaml_in_print(later)[0].line, 2);
    }

    #[test]
    fn messages_and_other_configs_are_not_yaml() {
        for text in [
            "{{- fail (printf \"redis.external.host: %q is a name\" .x) }}",
            "{{ printf \"allow %s;\\n\" . }}",
            "{{- print \"deny all;\\n\" }}",
            "{{- $x := \"a: b\\nc: d\" }}",
            "{{- /* printf \"a:\\n\" */}}",
            "{{- printf \"%s-%s\" $a (join \"\\n\" $inputs | sha256sum) }}",
        ] {
            assert!(yaml_in_print(text).is_empty(), "{text}");
        }
    }
}
