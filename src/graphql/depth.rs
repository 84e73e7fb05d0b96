//! How deep a document reaches, measured apart for data and for introspection.
//!
//! One depth limit cannot serve both: the standard introspection query that GraphiQL,
//! GraphQL Code Generator, Apollo tooling, Postman and Insomnia send (graphql-js
//! `getIntrospectionQuery()`) reaches depth 15 through its nine-level `ofType` chain,
//! while no data query of ours needs more than 12. So data fields are held to
//! [`MAX_DEPTH`](super::MAX_DEPTH), and the fields under `__schema` / `__type` to their
//! own bound, with the list-valued introspection fields nested on one path bounded too
//! (`types { fields { type { fields ... } } }` multiplies the answer at every level;
//! the standard query nests three: types, fields, args).
//!
//! Fragments are measured once each (memoised by name), so a fragment that spreads
//! another many times costs no more than its text; a fragment cycle contributes
//! nothing here and is refused by validation.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Deepest nesting under `__schema` or `__type`, that field included.
pub const MAX_INTROSPECTION_DEPTH: usize = 15;
/// Most list-valued introspection fields nested on one path.
pub const MAX_INTROSPECTION_LISTS: usize = 3;

/// Introspection fields that answer lists (each level multiplies the answer).
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// How far a selection reaches.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Deepest nesting of data fields (introspection excluded).
    pub data: usize,
    /// Deepest nesting under an introspection root, the root counted.
    pub introspection: usize,
    /// Most list-valued introspection fields on one path.
    pub introspection_lists: usize,
}

impl Reach {
    fn max(self, other: Reach) -> Reach {
        Reach {
            data: self.data.max(other.data),
            introspection: self.introspection.max(other.introspection),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
        }
    }
}

/// Why a document is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooDeep {
    /// Data fields nest deeper than the limit.
    #[error("Query is nested too deep.")]
    Data,
    /// An introspection selection nests deeper than its limit.
    #[error("Introspection query is nested too deep.")]
    Introspection,
}

/// Checks every operation of the document against the limits.
pub fn check(document: &ExecutableDocument, max_depth: usize) -> Result<Reach, TooDeep> {
    let mut walker = Walker {
        document,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    let mut reach = Reach::default();
    for (_, operation) in document.operations.iter() {
        reach = reach.max(walker.selection_set(&operation.node.selection_set, false));
    }
    if reach.data > max_depth {
        return Err(TooDeep::Data);
    }
    if reach.introspection > MAX_INTROSPECTION_DEPTH
        || reach.introspection_lists > MAX_INTROSPECTION_LISTS
    {
        return Err(TooDeep::Introspection);
    }
    Ok(reach)
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    /// Reach of each fragment, by name and whether it is used under introspection.
    memo: HashMap<(&'a str, bool), Reach>,
    /// Fragments being measured (a cycle stops here).
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>, inside: bool) -> Reach {
        let mut reach = Reach::default();
        for selection in &set.node.items {
            let part = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let enters = !inside && (name == "__schema" || name == "__type");
                    let now_inside = inside || enters;
                    let below = self.selection_set(&field.node.selection_set, now_inside);
                    if now_inside {
                        Reach {
                            data: 0,
                            introspection: 1 + below.introspection,
                            introspection_lists: below.introspection_lists
                                + usize::from(INTROSPECTION_LISTS.contains(&name)),
                        }
                    } else {
                        Reach {
                            data: 1 + below.data,
                            ..below
                        }
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set, inside)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), inside)
                }
            };
            reach = reach.max(part);
        }
        reach
    }

    fn fragment(&mut self, name: &'a str, inside: bool) -> Reach {
        if let Some(reach) = self.memo.get(&(name, inside)) {
            return *reach;
        }
        if self.visiting.contains(&name) {
            return Reach::default();
        }
        let Some((key, fragment)) = self
            .document
            .fragments
            .iter()
            .find(|(key, _)| key.as_str() == name)
        else {
            return Reach::default(); // unknown: validation reports it
        };
        self.visiting.push(key.as_str());
        let reach = self.selection_set(&fragment.node.selection_set, inside);
        self.visiting.pop();
        self.memo.insert((key.as_str(), inside), reach);
        reach
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(query: &str) -> Result<Reach, TooDeep> {
        check(&async_graphql::parser::parse_query(query).unwrap(), 12)
    }

    #[test]
    fn data_and_introspection_are_measured_apart() {
        let ok = reach("{ a { b { c } } __schema { types { name } } }").unwrap();
        assert_eq!(
            ok,
            Reach {
                data: 3,
                introspection: 3,
                introspection_lists: 1
            }
        );
        let nested = format!("{{ {}x{} }}", "a { ".repeat(12), " }".repeat(12));
        assert_eq!(reach(&nested), Err(TooDeep::Data));
    }

    #[test]
    fn of_type_chains_and_list_fan_out_are_bounded() {
        let chain = format!(
            "{{ __type(name: \"Query\") {{ {} name {} }} }}",
            "ofType { ".repeat(20),
            "}".repeat(20)
        );
        assert_eq!(reach(&chain), Err(TooDeep::Introspection));
        let fan_out =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(reach(fan_out), Err(TooDeep::Introspection));
    }

    #[test]
    fn fragments_count_where_they_are_spread_and_cycles_end() {
        let query = "query { a { ...F } } fragment F on T { b { c { d } } }";
        assert_eq!(reach(query).unwrap().data, 4);
        let cycle = "query { a { ...F } } fragment F on T { b { ...G } } fragment G on T { ...F }";
        assert_eq!(reach(cycle).unwrap().data, 2);
        // A fragment spread many times is measured once: this finishes at once.
        let mut bomb = String::from("query { ...F0 } ");
        for i in 0..40 {
            bomb.push_str(&format!(
                "fragment F{i} on Query {{ a: __typename ...F{n} ...F{n} }} ",
                n = i + 1
            ));
        }
        bomb.push_str("fragment F40 on Query { __typename }");
        assert_eq!(reach(&bomb).unwrap().data, 1);
    }
}
