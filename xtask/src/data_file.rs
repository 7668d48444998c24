//! The chart's data files (values files, the values schema, Chart.yaml) read as JSON values, for
//! every step that reads one.

/// A JSON file (`.json`) or a YAML file, as JSON values.
pub fn read_json_or_yaml(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    } else {
        yaml_serde::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    }
}
