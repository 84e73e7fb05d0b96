//! Whether a selection reads only fields from an allow-list.
//!
//! Two places share work between requests when what a document selects is the same
//! whoever asks and is kept fresh by known events: live events rendered once per query
//! shape (`live_render`) and whole catalogue answers (`response_cache`). Both decide it
//! the same way: every field selected, through fragments and nested objects, must be on
//! the caller's list. Anything not listed (a field added later included) makes the
//! selection private, so forgetting to list a field can cost speed but never leak data.

use std::collections::HashMap;

use async_graphql::parser::types::{FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned};

/// What an allow-listed field selected on a type holds.
pub enum Listed {
    /// A scalar or enum.
    Leaf,
    /// An object (or interface) of this type, whose selection is checked in turn.
    Object(&'static str),
}

/// The allow-list: what a field of a type holds, or None when it is not listed.
pub type AllowList = fn(on: &str, field: &str) -> Option<Listed>;

/// Deeper than this the check gives up (no listed selection nests this far).
const MAX_NESTING: usize = 12;

/// Whether every field `set` selects on type `on` (fragments followed) is listed.
/// `__typename` is always allowed.
pub fn only_listed(
    set: &SelectionSet,
    on: &str,
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    allowed: AllowList,
) -> bool {
    walk(set, on, fragments, allowed, 0)
}

fn walk(
    set: &SelectionSet,
    on: &str,
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    allowed: AllowList,
    nesting: usize,
) -> bool {
    nesting < MAX_NESTING
        && set.items.iter().all(|item| match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let children = &field.selection_set.node;
                match field.name.node.as_str() {
                    "__typename" => children.items.is_empty(),
                    name => match allowed(on, name) {
                        Some(Listed::Leaf) => children.items.is_empty(),
                        Some(Listed::Object(ty)) => {
                            walk(children, ty, fragments, allowed, nesting + 1)
                        }
                        None => false,
                    },
                }
            }
            Selection::FragmentSpread(spread) => fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|fragment| {
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    walk(
                        &fragment.node.selection_set.node,
                        on,
                        fragments,
                        allowed,
                        nesting + 1,
                    )
                }),
            Selection::InlineFragment(inline) => {
                let on = inline
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(on, |condition| condition.node.on.node.as_str());
                walk(
                    &inline.node.selection_set.node,
                    on,
                    fragments,
                    allowed,
                    nesting + 1,
                )
            }
        })
}
