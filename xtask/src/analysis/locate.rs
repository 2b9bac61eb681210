//! Which statement of a migration created, changed or dropped a given catalog object.

use super::replay::EventKind;
use super::sql_text::{alter_table, create_table, Location, Pattern, SqlText};
use crate::schema::model::{ObjectKind, SchemaObject};

use Pattern::{AnyOf, Name, Optional, Word};

const IF_EXISTS: Pattern<'static> = Optional(&["if", "exists"]);
const IF_NOT_EXISTS: Pattern<'static> = Optional(&["if", "not", "exists"]);
const OR_REPLACE: Pattern<'static> = Optional(&["or", "replace"]);

/// The statement in `text` that did `event` to `object`, if it can be told.
pub fn locate(text: &SqlText, object: &SchemaObject, event: &EventKind) -> Option<Location> {
    let name = object.id.name.as_str();
    // Objects of a table are named `table.object` in the model.
    let table = object.table.as_deref().unwrap_or("");
    let own = name
        .strip_prefix(table)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(name);
    match event {
        EventKind::Dropped => dropped(text, object, table, own),
        EventKind::Created => created(text, object, table, own),
        EventKind::Changed { .. } => match object.id.kind {
            ObjectKind::Column => {
                let alter = [Word("alter"), Optional(&["column"]), Name(own)];
                text.within(&alter_table(table), &alter, Some(0))
            }
            _ => created(text, object, table, own),
        },
    }
}

fn created(text: &SqlText, object: &SchemaObject, table: &str, own: &str) -> Option<Location> {
    let name = object.id.name.as_str();
    match object.id.kind {
        ObjectKind::Table => text.statement(&create_table(name)),
        ObjectKind::Column => text.column(table, own),
        ObjectKind::Constraint => text
            .within(&[], &[Word("constraint"), Name(own)], None)
            .or_else(|| {
                // Unnamed in the text (`UNIQUE`, `REFERENCES` on a column): the constraint
                // came with its first column.
                let column = first_column(object.properties.get("definition")?)?;
                text.column(table, &column)
            }),
        ObjectKind::Index => text.statement(&[
            Word("create"),
            Optional(&["unique"]),
            Word("index"),
            Optional(&["concurrently"]),
            IF_NOT_EXISTS,
            Name(name),
        ]),
        ObjectKind::Enum | ObjectKind::CompositeType => {
            text.statement(&[Word("create"), Word("type"), Name(name)])
        }
        ObjectKind::Domain => text.statement(&[Word("create"), Word("domain"), Name(name)]),
        ObjectKind::Sequence => text.statement(&[
            Word("create"),
            Optional(&["temporary"]),
            Word("sequence"),
            IF_NOT_EXISTS,
            Name(name),
        ]),
        ObjectKind::View => text.statement(&[
            Word("create"),
            OR_REPLACE,
            Optional(&["recursive"]),
            Word("view"),
            Name(name),
        ]),
        ObjectKind::MaterializedView => text.statement(&[
            Word("create"),
            Word("materialized"),
            Word("view"),
            IF_NOT_EXISTS,
            Name(name),
        ]),
        ObjectKind::Function => {
            let (base, arguments) = function_signature(name);
            let head = [
                Word("create"),
                OR_REPLACE,
                AnyOf(&["function", "procedure", "aggregate"]),
            ];
            text.function(&head, base, arguments)
        }
        ObjectKind::Trigger => text.statement(&[
            Word("create"),
            OR_REPLACE,
            Optional(&["constraint"]),
            Word("trigger"),
            Name(own),
        ]),
        ObjectKind::Policy => text.statement(&[Word("create"), Word("policy"), Name(own)]),
        ObjectKind::Role => text.statement(&[Word("create"), AnyOf(&["role", "user"]), Name(name)]),
        ObjectKind::Extension => {
            text.statement(&[Word("create"), Word("extension"), IF_NOT_EXISTS, Name(name)])
        }
        // Named by `ALTER EXTENSION ... ADD`, or made by the extension's script.
        ObjectKind::ExtensionMember => {
            let extension = object.sql.name.as_str();
            text.statement(&[
                Word("alter"),
                Word("extension"),
                Name(extension),
                Word("add"),
            ])
            .or_else(|| {
                text.statement(&[
                    Word("create"),
                    Word("extension"),
                    IF_NOT_EXISTS,
                    Name(extension),
                ])
            })
        }
        ObjectKind::Schema => {
            text.statement(&[Word("create"), Word("schema"), IF_NOT_EXISTS, Name(name)])
        }
        // The kinds that only verify compares are not looked for in the text.
        _ => None,
    }
}

fn dropped(text: &SqlText, object: &SchemaObject, table: &str, own: &str) -> Option<Location> {
    let name = object.id.name.as_str();
    let drop_one = |words: &'static [&'static str], target: &str| {
        let mut head = vec![Word("drop")];
        head.extend(words.iter().map(|&w| Word(w)));
        head.push(Optional(&["concurrently"]));
        head.push(IF_EXISTS);
        text.within(&head, &[Name(target)], Some(0))
    };
    match object.id.kind {
        ObjectKind::Table => drop_one(&["table"], name),
        ObjectKind::Column => text.within(
            &alter_table(table),
            &[Word("drop"), Optional(&["column"]), IF_EXISTS, Name(own)],
            Some(0),
        ),
        ObjectKind::Constraint => text.within(
            &alter_table(table),
            &[Word("drop"), Word("constraint"), IF_EXISTS, Name(own)],
            Some(0),
        ),
        ObjectKind::Index => drop_one(&["index"], name),
        ObjectKind::Enum | ObjectKind::CompositeType => drop_one(&["type"], name),
        ObjectKind::Domain => drop_one(&["domain"], name),
        ObjectKind::Sequence => drop_one(&["sequence"], name),
        ObjectKind::View => drop_one(&["view"], name),
        ObjectKind::MaterializedView => drop_one(&["materialized", "view"], name),
        ObjectKind::Function => {
            let (base, arguments) = function_signature(name);
            let head = [
                Word("drop"),
                AnyOf(&["function", "procedure", "aggregate"]),
                IF_EXISTS,
            ];
            text.function(&head, base, arguments)
        }
        ObjectKind::Trigger => drop_one(&["trigger"], own),
        ObjectKind::Policy => drop_one(&["policy"], own),
        ObjectKind::Role => drop_one(&["role"], name),
        ObjectKind::Extension => drop_one(&["extension"], name),
        ObjectKind::ExtensionMember => {
            let extension = object.sql.name.as_str();
            let head = [Word("alter"), Word("extension"), Name(extension)];
            text.within(&head, &[Word("drop")], Some(0))
                .or_else(|| drop_one(&["extension"], extension))
        }
        ObjectKind::Schema => drop_one(&["schema"], name),
        _ => None,
    }
}

/// `enable_trigger_webhook(bigint, jsonb)` → (`enable_trigger_webhook`, 2).
pub fn function_signature(name: &str) -> (&str, usize) {
    match name.split_once('(') {
        Some((base, arguments)) => {
            let arguments = arguments.trim_end_matches(')').trim();
            let count = if arguments.is_empty() {
                0
            } else {
                arguments.split(", ").count()
            };
            (base, count)
        }
        None => (name, 0),
    }
}

/// The first column of `UNIQUE (a, b)`, `FOREIGN KEY (a) REFERENCES ...`, `PRIMARY KEY (a)`.
fn first_column(definition: &str) -> Option<String> {
    let keyed = ["UNIQUE", "FOREIGN KEY", "PRIMARY KEY"]
        .iter()
        .any(|k| definition.starts_with(k));
    if !keyed {
        return None;
    }
    let inside = definition.split_once('(')?.1.split_once(')')?.0;
    let first = inside.split(',').next()?.trim().trim_matches('"');
    (!first.is_empty()).then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_signatures_count_arguments() {
        assert_eq!(function_signature("f()"), ("f", 0));
        assert_eq!(
            function_signature("check_webhook_ip_whitelist(character varying, inet)"),
            ("check_webhook_ip_whitelist", 2)
        );
    }

    #[test]
    fn first_column_of_keyed_constraints_only() {
        assert_eq!(
            first_column("FOREIGN KEY (workflow_def) REFERENCES workflow_definition(id)"),
            Some("workflow_def".to_owned())
        );
        assert_eq!(
            first_column("UNIQUE (webhook_key)").as_deref(),
            Some("webhook_key")
        );
        assert_eq!(first_column("CHECK ((a > 0))"), None);
    }

    #[test]
    fn locates_a_constraint_added_with_its_column() {
        let text = SqlText::parse(
            "CREATE TABLE t (id INT);\nALTER TABLE t\n    ADD COLUMN k TEXT UNIQUE;\n",
        );
        let mut constraint =
            SchemaObject::new(ObjectKind::Constraint, "t.t_k_key", Some("t".into()));
        constraint.set("definition", Some("UNIQUE (k)"));
        let found = locate(&text, &constraint, &EventKind::Created).unwrap();
        assert_eq!((found.line, found.in_alter), (3, true));
    }
}
