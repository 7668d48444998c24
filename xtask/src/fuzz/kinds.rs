//! The mutation kinds: every one makes a value wrong by construction, whatever the schema says
//! (the schema decides only where a kind applies, never whether its value is wrong).

/// The key every unknown-key mutation adds.
pub const UNKNOWN_KEY: &str = "notAKey";

/// One kind of wrong value. The order is the order of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    UnknownKey,
    StringForNumber,
    StringForBool,
    NumberForString,
    ObjectForScalar,
    ListForMap,
    ScalarForMap,
    ScalarForList,
    ObjectForList,
    WrongItemType,
    FractionForInteger,
    Negative,
    OutOfRange,
    NonsenseQuantity,
    NonsenseValue,
    EmptyRequired,
    Opening,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::UnknownKey,
        Kind::StringForNumber,
        Kind::StringForBool,
        Kind::NumberForString,
        Kind::ObjectForScalar,
        Kind::ListForMap,
        Kind::ScalarForMap,
        Kind::ScalarForList,
        Kind::ObjectForList,
        Kind::WrongItemType,
        Kind::FractionForInteger,
        Kind::Negative,
        Kind::OutOfRange,
        Kind::NonsenseQuantity,
        Kind::NonsenseValue,
        Kind::EmptyRequired,
        Kind::Opening,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::UnknownKey => "unknown-key",
            Kind::StringForNumber => "string-for-number",
            Kind::StringForBool => "string-for-bool",
            Kind::NumberForString => "number-for-string",
            Kind::ObjectForScalar => "object-for-scalar",
            Kind::ListForMap => "list-for-map",
            Kind::ScalarForMap => "scalar-for-map",
            Kind::ScalarForList => "scalar-for-list",
            Kind::ObjectForList => "object-for-list",
            Kind::WrongItemType => "wrong-item-type",
            Kind::FractionForInteger => "fraction-for-integer",
            Kind::Negative => "negative",
            Kind::OutOfRange => "out-of-range",
            Kind::NonsenseQuantity => "nonsense-quantity",
            Kind::NonsenseValue => "nonsense-value",
            Kind::EmptyRequired => "empty-required",
            Kind::Opening => "opening",
        }
    }

    /// Where the kind applies and why its value is wrong there.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::UnknownKey => {
                "`notAKey` added to every map whose keys the schema fixes (additionalProperties: \
                 false, or propertyNames); free-form maps (labels, annotations, settings, \
                 Kubernetes objects passed through) are skipped"
            }
            Kind::StringForNumber => "\"many\" for every number",
            Kind::StringForBool => {
                "the string \"false\" for every boolean (Go templates read it as true)"
            }
            Kind::NumberForString => {
                "42 for every string the schema constrains (pattern or enum) where neither 42 nor \
                 \"42\" is a valid value; free strings and names that may be digits are skipped"
            }
            Kind::ObjectForScalar => "{fuzz: true} for every scalar",
            Kind::ListForMap => "[fuzz] for every map but the root",
            Kind::ScalarForMap => "\"fuzz\" for every map but the root",
            Kind::ScalarForList => "\"fuzz\" for every list",
            Kind::ObjectForList => "{fuzz: true} for every list",
            Kind::WrongItemType => {
                "a list whose one item has the other shape: a string where items are objects, \
                 an object where they are scalars (known from the schema's items or the default's \
                 first item)"
            }
            Kind::FractionForInteger => "2.5 for every integer (counts, ports, seconds, ids)",
            Kind::Negative => {
                "-1 for every integer (none of the chart's may be negative: counts, ports, \
                 seconds, sizes, ids, percentages) and for every Kubernetes quantity"
            }
            Kind::OutOfRange => {
                "ports 0 and 65536; 101 for a percentage that is a share of a whole (not for an \
                 autoscaler's CPU target, which may exceed 100)"
            }
            Kind::NonsenseQuantity => {
                "768MB, 1.5.0Gi, -1Gi and lots for every Kubernetes quantity (CPU, memory, \
                 storage); 10GB, 1.5g, -1g and lots for nginx sizes"
            }
            Kind::NonsenseValue => {
                "a value that cannot mean what the key means (see meaning.rs): a URL that is \
                 none, a CIDR with prefix /99, an e-mail without @, a Kubernetes name with spaces, \
                 a choice outside an enumeration, ..."
            }
            Kind::EmptyRequired => {
                "\"\" for every string whose default is not empty, unless an empty one means \
                 something (label values)"
            }
            Kind::Opening => super::openings::RULE,
        }
    }
}
