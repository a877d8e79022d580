//! How a condition (of a Branch node, or of a trigger's entry rules) tests a value: one
//! definition for both, so a rule means the same wherever it is written.

use crate::document::{Condition, ConditionOp};
use crate::flow::Flow;
use crate::matching;
use serde_json::Value;

/// Whether `c` holds for `value` (the tested variable's value, if set). `expected` gives the
/// text compared with (the runtime renders templates; entry rules use the value as written).
/// `business_hours_open` asks `is_open`.
pub fn holds(
    flow: &Flow,
    c: &Condition,
    value: Option<&Value>,
    expected: &dyn Fn() -> String,
    is_open: &dyn Fn(Option<&str>) -> bool,
) -> bool {
    let is_set = value.is_some_and(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    });
    let text = || value.map(crate::template::display_value).unwrap_or_default();
    match c.op {
        ConditionOp::IsSet => is_set,
        ConditionOp::IsNotSet => !is_set,
        ConditionOp::Equals => eq_loose(&text(), &expected()),
        ConditionOp::NotEquals => !eq_loose(&text(), &expected()),
        ConditionOp::Contains => {
            let needle = expected().to_lowercase();
            !needle.is_empty() && text().to_lowercase().contains(&needle)
        }
        ConditionOp::Matches => match &c.value {
            Some(Value::String(p)) => flow.regex(p).is_some_and(|re| re.is_match(&text())),
            _ => false,
        },
        ConditionOp::GreaterThan | ConditionOp::LessThan => {
            let left = value.and_then(matching::value_as_number);
            let right = c.value.as_ref().and_then(matching::value_as_number);
            match (left, right) {
                (Some(l), Some(r)) if c.op == ConditionOp::GreaterThan => l > r,
                (Some(l), Some(r)) => l < r,
                _ => false,
            }
        }
        ConditionOp::InList => match &c.value {
            Some(Value::Array(items)) => {
                let t = text();
                items
                    .iter()
                    .any(|item| eq_loose(&t, &crate::template::display_value(item)))
            }
            _ => false,
        },
        ConditionOp::BusinessHoursOpen => is_open(c.team.as_deref()),
    }
}

/// Equal as numbers when both are numbers, else as text ignoring case and outer spaces.
fn eq_loose(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x == y;
    }
    a.to_lowercase() == b.to_lowercase()
}
