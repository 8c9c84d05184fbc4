//! Per-execution limits: their defaults, the deployment's ceilings, and per-session overrides.

use serde::{de, Deserialize, Deserializer, Serialize};

/// The limits one execution runs under, and the session's file quotas.
///
/// Missing fields read as their defaults, so limits stored before a field existed still load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Units of work: each VM instruction's opcode weight, plus charges for allocations,
    /// collections and work inside builtins (scanning, copying, sorting, regex steps).
    pub fuel: u64,
    /// Bytes the session's heap may grow by (across cells, approximately; see README).
    pub memory_bytes: u64,
    /// Bytes of console output per execution.
    pub output_bytes: u64,
    /// Bytes of the JSON-encoded completion value.
    pub result_bytes: u64,
    /// Bytes of source code per cell.
    pub source_bytes: u64,
    /// Syntactic nesting depth of a cell (brackets, prefix operators), checked before parsing.
    pub nesting_depth: u64,
    /// Nested calls.
    pub recursion_depth: u64,
    /// Bytes of one file.
    pub file_bytes: u64,
    /// Bytes of all of a session's files together.
    pub files_bytes: u64,
    /// Number of a session's files.
    pub files_count: u64,
    /// `fetch` requests per execution; each redirect followed counts.
    pub fetch_requests: u64,
    /// Bytes of `fetch` response bodies per execution.
    pub fetch_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 120_000_000,
            memory_bytes: 32 << 20,
            output_bytes: 1 << 20,
            result_bytes: 1 << 20,
            source_bytes: 1 << 20,
            nesting_depth: 128,
            recursion_depth: 256,
            file_bytes: 32 << 20,
            files_bytes: 256 << 20,
            files_count: 1000,
            fetch_requests: 20,
            fetch_bytes: 5 << 20,
        }
    }
}

impl Limits {
    /// No limit at all: the base a deployment's ceilings are checked against.
    pub fn unbounded() -> Self {
        Self {
            fuel: u64::MAX,
            memory_bytes: u64::MAX,
            output_bytes: u64::MAX,
            result_bytes: u64::MAX,
            source_bytes: u64::MAX,
            nesting_depth: u64::MAX,
            recursion_depth: u64::MAX,
            file_bytes: u64::MAX,
            files_bytes: u64::MAX,
            files_count: u64::MAX,
            fetch_requests: u64::MAX,
            fetch_bytes: u64::MAX,
        }
    }

    /// The most any session may ask for unless the deployment sets other ceilings.
    pub fn default_ceiling() -> Self {
        Self {
            fuel: 2_000_000_000,
            memory_bytes: 64 << 20,
            output_bytes: 4 << 20,
            result_bytes: 4 << 20,
            source_bytes: 1 << 20,
            nesting_depth: 256,
            recursion_depth: 1000,
            file_bytes: 100 << 20,
            files_bytes: 1 << 30,
            files_count: 10_000,
            fetch_requests: 100,
            fetch_bytes: 32 << 20,
        }
    }

    /// Field names and values, for messages and for walking every limit.
    pub fn fields(&self) -> [(&'static str, u64); 12] {
        [
            ("fuel", self.fuel),
            ("memory_bytes", self.memory_bytes),
            ("output_bytes", self.output_bytes),
            ("result_bytes", self.result_bytes),
            ("source_bytes", self.source_bytes),
            ("nesting_depth", self.nesting_depth),
            ("recursion_depth", self.recursion_depth),
            ("file_bytes", self.file_bytes),
            ("files_bytes", self.files_bytes),
            ("files_count", self.files_count),
            ("fetch_requests", self.fetch_requests),
            ("fetch_bytes", self.fetch_bytes),
        ]
    }
}

/// A session's requested limits: every field optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    #[serde(default, deserialize_with = "whole_number")]
    pub fuel: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub memory_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub output_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub result_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub source_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub nesting_depth: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub recursion_depth: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub file_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub files_bytes: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub files_count: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub fetch_requests: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub fetch_bytes: Option<u64>,
}

/// A JSON number that is a non-negative integer, also when written with a fraction of zero
/// (`235.0`): JSON Schema's `integer`, which the OpenAPI document promises.
pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Whole;
    impl de::Visitor<'_> for Whole {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a non-negative integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            // 2^64 is the first float past u64::MAX.
            if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                Ok(v as u64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }
    d.deserialize_any(Whole).map(Some)
}

impl LimitsRequest {
    /// Applies the request over `defaults`; every value must be between 1 and the ceiling.
    pub fn resolve(&self, defaults: Limits, ceiling: Limits) -> Result<Limits, String> {
        let pick = |asked: Option<u64>, default: u64| asked.unwrap_or(default);
        let limits = Limits {
            fuel: pick(self.fuel, defaults.fuel),
            memory_bytes: pick(self.memory_bytes, defaults.memory_bytes),
            output_bytes: pick(self.output_bytes, defaults.output_bytes),
            result_bytes: pick(self.result_bytes, defaults.result_bytes),
            source_bytes: pick(self.source_bytes, defaults.source_bytes),
            nesting_depth: pick(self.nesting_depth, defaults.nesting_depth),
            recursion_depth: pick(self.recursion_depth, defaults.recursion_depth),
            file_bytes: pick(self.file_bytes, defaults.file_bytes),
            files_bytes: pick(self.files_bytes, defaults.files_bytes),
            files_count: pick(self.files_count, defaults.files_count),
            fetch_requests: pick(self.fetch_requests, defaults.fetch_requests),
            fetch_bytes: pick(self.fetch_bytes, defaults.fetch_bytes),
        };
        for ((name, value), (_, max)) in limits.fields().into_iter().zip(ceiling.fields()) {
            if value == 0 || value > max {
                return Err(format!("limits.{name} must be between 1 and {max}"));
            }
        }
        Ok(limits)
    }
}

/// Clamps `defaults` under `ceiling`, so a deployment that lowers a ceiling lowers the default.
pub fn clamp(defaults: Limits, ceiling: Limits) -> Limits {
    Limits {
        fuel: defaults.fuel.min(ceiling.fuel),
        memory_bytes: defaults.memory_bytes.min(ceiling.memory_bytes),
        output_bytes: defaults.output_bytes.min(ceiling.output_bytes),
        result_bytes: defaults.result_bytes.min(ceiling.result_bytes),
        source_bytes: defaults.source_bytes.min(ceiling.source_bytes),
        nesting_depth: defaults.nesting_depth.min(ceiling.nesting_depth),
        recursion_depth: defaults.recursion_depth.min(ceiling.recursion_depth),
        file_bytes: defaults.file_bytes.min(ceiling.file_bytes),
        files_bytes: defaults.files_bytes.min(ceiling.files_bytes),
        files_count: defaults.files_count.min(ceiling.files_count),
        fetch_requests: defaults.fetch_requests.min(ceiling.fetch_requests),
        fetch_bytes: defaults.fetch_bytes.min(ceiling.fetch_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_request_gets_the_defaults() {
        let limits = LimitsRequest::default().resolve(Limits::default(), Limits::default_ceiling());
        assert_eq!(limits, Ok(Limits::default()));
    }

    #[test]
    fn a_request_overrides_single_limits() {
        let req = LimitsRequest {
            fuel: Some(1000),
            ..Default::default()
        };
        let limits = req
            .resolve(Limits::default(), Limits::default_ceiling())
            .expect("ok");
        assert_eq!(limits.fuel, 1000);
        assert_eq!(limits.memory_bytes, Limits::default().memory_bytes);
    }

    #[test]
    fn values_above_the_ceiling_or_zero_are_refused_by_name() {
        let ceiling = Limits::default_ceiling();
        let req = LimitsRequest {
            memory_bytes: Some(ceiling.memory_bytes + 1),
            ..Default::default()
        };
        let err = req
            .resolve(Limits::default(), ceiling)
            .expect_err("too big");
        assert!(err.contains("limits.memory_bytes"), "{err}");
        let req = LimitsRequest {
            fuel: Some(0),
            ..Default::default()
        };
        assert!(req.resolve(Limits::default(), ceiling).is_err());
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let req: LimitsRequest =
            serde_json::from_str(r#"{"fuel": 235.0, "files_count": 7}"#).expect("whole numbers");
        assert_eq!((req.fuel, req.files_count), (Some(235), Some(7)));
        for bad in [
            r#"{"fuel": 1.5}"#,
            r#"{"fuel": -1}"#,
            r#"{"fuel": -1.0}"#,
            r#"{"fuel": "1"}"#,
        ] {
            let err = serde_json::from_str::<LimitsRequest>(bad).expect_err(bad);
            assert!(err.to_string().contains("non-negative integer"), "{err}");
        }
    }

    #[test]
    fn lower_ceilings_lower_the_defaults() {
        let ceiling = Limits {
            fuel: 10,
            ..Limits::default_ceiling()
        };
        assert_eq!(clamp(Limits::default(), ceiling).fuel, 10);
    }
}
