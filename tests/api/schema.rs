//! The schema documents itself. (That schema.graphql matches the code is checked in
//! `cli`, through the `zhiku schema` command.)

#[test]
fn every_type_and_field_has_a_description() {
    let sdl = zhiku::graphql::sdl();
    let mut previous = "";
    let mut in_schema_block = false;
    for line in sdl.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("schema {") {
            in_schema_block = true;
        }
        if in_schema_block {
            in_schema_block = trimmed != "}";
            continue;
        }
        let is_definition = (trimmed.starts_with("type ")
            || trimmed.starts_with("enum ")
            || trimmed.starts_with("input ")
            || trimmed.starts_with("interface ")
            || trimmed.starts_with("union ")
            || (line.starts_with('\t') && trimmed.contains(':') && !trimmed.starts_with('"')))
            && !trimmed.starts_with("type Query {")
            && !trimmed.starts_with("schema");
        if is_definition {
            assert!(
                previous.ends_with("\"\"\"") || previous.ends_with('"'),
                "no description before `{trimmed}`"
            );
        }
        if !trimmed.is_empty() {
            previous = trimmed;
        }
    }
}
