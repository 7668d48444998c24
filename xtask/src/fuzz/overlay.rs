//! Where a mutation goes (a path into the values) and the values file that puts it there.

use serde_json::{Map, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the values, e.g. `networkPolicy.dns.ports[0].port`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// `a.b.0.c`: keys, and numbers for list indices.
    pub fn dotted(dotted: &str) -> Path {
        dotted
            .split('.')
            .fold(Path::default(), |p, k| match k.parse() {
                Ok(i) => p.item(i),
                Err(_) => p.child(k),
            })
    }

    pub fn child(&self, key: &str) -> Path {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        Path(segs)
    }

    pub fn item(&self, index: usize) -> Path {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Path(segs)
    }

    /// The keys along the path, list indices left out.
    pub fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect()
    }

    /// The `n`th key from the end (0: the last), list indices left out.
    pub fn key_back(&self, n: usize) -> &str {
        let keys = self.keys();
        keys.len().checked_sub(n + 1).map_or("", |i| keys[i])
    }

    /// The last key: the leaf's own, or its list's for a list item.
    pub fn key(&self) -> &str {
        self.key_back(0)
    }

    /// Whether the path ends at a list item.
    pub fn is_item(&self) -> bool {
        matches!(self.0.last(), Some(Seg::Index(_)))
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        if self.0.is_empty() {
            f.write_str("(root)")?;
        }
        Ok(())
    }
}

/// The values file that sets each `(path, value)`: only the maps down to each path, which Helm
/// merges over the defaults and the pins. Helm replaces lists instead of merging them, so a list
/// on the way is copied whole from `base` (the defaults with the pins) with the change inside.
pub fn overlay(base: &Value, settings: &[(&Path, &Value)]) -> Value {
    let mut doc = Value::Object(Map::new());
    for (path, value) in settings {
        set(&mut doc, Some(base), &path.0, (*value).clone());
    }
    doc
}

fn set(doc: &mut Value, base: Option<&Value>, path: &[Seg], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *doc = value;
        return;
    };
    match first {
        Seg::Key(key) => {
            if !doc.is_object() {
                *doc = Value::Object(Map::new());
            }
            let base_child = base.and_then(|b| b.get(key));
            let child = doc
                .as_object_mut()
                .expect("made an object above")
                .entry(key.clone())
                .or_insert(Value::Null);
            if matches!(rest.first(), Some(Seg::Index(_))) && !child.is_array() {
                *child = base_child.cloned().unwrap_or(Value::Array(Vec::new()));
            }
            set(child, base_child, rest, value);
        }
        Seg::Index(i) => {
            let base_item = base.and_then(|b| b.get(*i));
            match doc.as_array_mut().and_then(|list| list.get_mut(*i)) {
                Some(item) => set(item, base_item, rest, value),
                None => panic!("a mutation points past the end of a list: index {i}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(segs: &[Seg]) -> Path {
        Path(segs.to_vec())
    }

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn maps_are_sparse_and_lists_are_copied_whole() {
        let base = json!({
            "a": {"b": 1, "c": 2},
            "np": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
        });
        let p = path(&[key("a"), key("b")]);
        assert_eq!(overlay(&base, &[(&p, &json!(-1))]), json!({"a": {"b": -1}}));
        let q = path(&[key("np"), key("ports"), Seg::Index(1), key("port")]);
        assert_eq!(
            overlay(&base, &[(&q, &json!(0))]),
            json!({"np": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 0, "protocol": "TCP"}]}})
        );
        assert_eq!(q.to_string(), "np.ports[1].port");
        assert_eq!(q.key(), "port");
        assert_eq!(q.key_back(1), "ports");
        let both = overlay(&base, &[(&p, &json!("x")), (&q, &json!(0))]);
        assert_eq!(both["a"], json!({"b": "x"}));
    }

    #[test]
    fn a_list_item_path_names_its_list() {
        let p = path(&[key("nginx"), key("trustedProxies"), Seg::Index(0)]);
        assert!(p.is_item());
        assert_eq!(p.key(), "trustedProxies");
        assert_eq!(p.key_back(1), "nginx");
        assert_eq!(p.key_back(5), "");
        assert_eq!(Path::default().to_string(), "(root)");
    }
}
