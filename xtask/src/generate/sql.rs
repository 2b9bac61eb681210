//! DDL from model objects. The model holds PostgreSQL's own printing of every definition,
//! so writing SQL is assembly: each kind of object that heads a unit has one entry in
//! [`KINDS`], and the members of a unit (a table's columns, constraints, indexes and owned
//! sequences; a domain's constraints) are written by their head. Every property an object
//! holds must be consumed by the SQL written for it; one that is not makes the object
//! refused by name rather than silently dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::names::{literal, text_array, Names};
use super::rows::TableRows;
use super::units::{Unit, Units};
use crate::schema::model::{ObjectId, ObjectKind, Schema, SchemaObject};

/// How each kind of unit head is written. A kind missing here is refused by name.
const KINDS: &[(ObjectKind, Render)] = &[
    (ObjectKind::Extension, extension),
    (ObjectKind::Schema, schema),
    (ObjectKind::Enum, enumeration),
    (ObjectKind::Domain, domain),
    (ObjectKind::CompositeType, composite_type),
    (ObjectKind::Sequence, sequence),
    (ObjectKind::Table, table),
    (ObjectKind::View, view),
    (ObjectKind::MaterializedView, view),
    (ObjectKind::Function, function),
    (ObjectKind::Trigger, trigger),
    (ObjectKind::Policy, policy),
    (ObjectKind::Constraint, foreign_key),
    (ObjectKind::Rule, rule),
    (ObjectKind::Statistics, statistics),
];

type Render = fn(&Writer<'_>, &SchemaObject, &mut Block) -> Result<(), String>;

/// What writing needs beyond the object itself.
pub struct Writer<'a> {
    pub schema: &'a Schema,
    pub names: &'a Names,
    pub units: &'a Units,
    /// Foreign keys written inside their table's `CREATE TABLE`; the others are written as
    /// units of their own (`ALTER TABLE ... ADD CONSTRAINT`).
    pub inline_foreign_keys: &'a BTreeSet<ObjectId>,
    /// The version `CREATE EXTENSION` installs when none is named, per extension.
    pub default_versions: &'a BTreeMap<String, String>,
    /// Objects that exist in a new database already (the prelude's, `public`, `plpgsql`)
    /// and that the history changed: only what changed is written.
    pub baseline: &'a Schema,
    pub rows: &'a BTreeMap<String, TableRows>,
}

/// The SQL of one unit: statements in the order they run, a blank line between groups.
#[derive(Debug, Default)]
pub struct Block {
    groups: Vec<Vec<String>>,
}

impl Block {
    fn push(&mut self, statement: String) {
        match self.groups.last_mut() {
            Some(group) => group.push(statement),
            None => self.groups.push(vec![statement]),
        }
    }

    fn group(&mut self) {
        if self.groups.last().is_none_or(|g| !g.is_empty()) {
            self.groups.push(Vec::new());
        }
    }

    pub fn text(&self) -> String {
        self.groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| g.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// The properties of an object, each to be consumed by the SQL written for it.
struct Props<'o> {
    object: &'o SchemaObject,
    used: BTreeSet<&'static str>,
}

impl<'o> Props<'o> {
    fn new(object: &'o SchemaObject) -> Props<'o> {
        Props {
            object,
            used: BTreeSet::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'o str> {
        self.used.insert(key);
        self.object.properties.get(key).map(String::as_str)
    }

    fn is(&mut self, key: &'static str, value: &str) -> bool {
        self.get(key) == Some(value)
    }

    /// Fails naming the properties nothing consumed.
    fn done(self) -> Result<(), String> {
        let left: Vec<&str> = self
            .object
            .properties
            .keys()
            .map(String::as_str)
            .filter(|k| !self.used.contains(k))
            .collect();
        match left.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "{}: generate cannot write its {}",
                self.object.id,
                left.join(", ")
            )),
        }
    }
}

impl Writer<'_> {
    /// The SQL of one unit, or why it cannot be written (every reason, each naming its
    /// object).
    pub fn unit(&self, unit: &Unit) -> Result<String, Vec<String>> {
        let mut block = Block::default();
        let result = match unit {
            Unit::Rows(table) => {
                self.rows_of(table, &mut block);
                Ok(())
            }
            Unit::Object(id) => {
                let object = &self.schema.objects[id];
                match KINDS.iter().find(|(kind, _)| *kind == id.kind) {
                    Some((_, render)) if !self.baseline.objects.contains_key(id) => {
                        render(self, object, &mut block)
                    }
                    Some(_) => self.changed_baseline_object(object, &mut block),
                    None => Err(format!("{id}: generate cannot write a {}", id.kind)),
                }
            }
        };
        let mut reasons: Vec<String> = result.err().into_iter().collect();
        reasons.extend(self.unwritten_members(unit));
        match reasons.is_empty() {
            true => Ok(block.text()),
            false => Err(reasons),
        }
    }

    /// Members of a unit whose head has no rule for them: a column of a kind of relation
    /// the writer does not know, say.
    fn unwritten_members(&self, unit: &Unit) -> Vec<String> {
        let Unit::Object(head) = unit else {
            return Vec::new();
        };
        let known: &[ObjectKind] = match head.kind {
            ObjectKind::Table => &[
                ObjectKind::Column,
                ObjectKind::Constraint,
                ObjectKind::Index,
                ObjectKind::Sequence,
            ],
            ObjectKind::View => &[ObjectKind::Column],
            ObjectKind::MaterializedView => &[ObjectKind::Column, ObjectKind::Index],
            ObjectKind::Domain => &[ObjectKind::Constraint],
            ObjectKind::Extension => &[ObjectKind::ExtensionMember],
            _ => &[],
        };
        self.members(unit)
            .filter(|m| !known.contains(&m.id.kind))
            .map(|m| format!("{}: generate cannot write it as part of {head}", m.id))
            .collect()
    }

    fn members<'s>(&'s self, unit: &Unit) -> impl Iterator<Item = &'s SchemaObject> + 's {
        self.units
            .members(unit)
            .iter()
            .map(|id| &self.schema.objects[id])
    }

    fn member_kind<'s>(
        &'s self,
        unit: &Unit,
        kind: ObjectKind,
    ) -> impl Iterator<Item = &'s SchemaObject> + 's {
        self.members(unit).filter(move |m| m.id.kind == kind)
    }

    /// `public` and extensions a new database already has: only a changed comment can be
    /// written; anything else the history changed about them is refused.
    fn changed_baseline_object(
        &self,
        object: &SchemaObject,
        block: &mut Block,
    ) -> Result<(), String> {
        let before = &self.baseline.objects[&object.id];
        let mut changed: Vec<&str> = object
            .properties
            .keys()
            .chain(before.properties.keys())
            .filter(|k| object.properties.get(*k) != before.properties.get(*k))
            .map(String::as_str)
            .collect();
        changed.dedup();
        let what = match object.id.kind {
            ObjectKind::Schema => "SCHEMA",
            ObjectKind::Extension => "EXTENSION",
            _ => "",
        };
        if changed == ["comment"] && !what.is_empty() {
            let target = format!("{what} {}", object.id.name);
            block.push(comment(&target, object.properties.get("comment")));
            return Ok(());
        }
        Err(format!(
            "{}: exists in a new database and the history changed its {}; generate cannot \
             write that",
            object.id,
            changed.join(", ")
        ))
    }

    fn rows_of(&self, table: &str, block: &mut Block) {
        let Some(rows) = self.rows.get(table) else {
            return;
        };
        let name = table;
        if !rows.values.is_empty() {
            let overriding = match rows.overriding {
                true => " OVERRIDING SYSTEM VALUE",
                false => "",
            };
            block.push(format!(
                "INSERT INTO {name} ({}){overriding} VALUES\n    {};",
                rows.columns.join(", "),
                rows.values.join(",\n    ")
            ));
        }
        for (sequence, value, is_called) in &rows.sequences {
            let call = match is_called {
                true => format!("SELECT setval({}, {value});", literal(sequence)),
                false => format!("SELECT setval({}, {value}, false);", literal(sequence)),
            };
            block.push(call);
        }
    }
}

/// A member's own name (a column, constraint, trigger or policy), quoted.
fn member_name(object: &SchemaObject) -> &str {
    object.sql.member.as_deref().unwrap_or(&object.sql.name)
}

fn comment(target: &str, text: Option<&String>) -> String {
    match text {
        Some(text) => format!("COMMENT ON {target} IS {};", literal(text)),
        None => format!("COMMENT ON {target} IS NULL;"),
    }
}

/// `COMMENT ON` for the object, when it has a comment.
fn push_comment(block: &mut Block, props: &mut Props<'_>, target: impl FnOnce() -> String) {
    if let Some(text) = props.get("comment") {
        block.push(format!("COMMENT ON {} IS {};", target(), literal(text)));
    }
}

/// `ALTER ... OWNER TO` when the object's owner is not the migrating user (the model
/// leaves the owner out when it is).
fn push_owner(block: &mut Block, props: &mut Props<'_>, target: impl FnOnce() -> String) {
    if let Some(owner) = props.get("owner") {
        block.push(format!("ALTER {} OWNER TO {owner};", target()));
    }
}

/// The privilege each letter of an `aclitem` stands for.
const PRIVILEGES: &[(char, &str)] = &[
    ('r', "SELECT"),
    ('w', "UPDATE"),
    ('a', "INSERT"),
    ('d', "DELETE"),
    ('D', "TRUNCATE"),
    ('x', "REFERENCES"),
    ('t', "TRIGGER"),
    ('X', "EXECUTE"),
    ('U', "USAGE"),
    ('C', "CREATE"),
    ('m', "MAINTAIN"),
];

/// One role name as an `aclitem` prints it (double-quoted when it holds anything but
/// letters, digits and underscores), and the rest of the text after it.
fn acl_role(text: &str) -> (String, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(['=', '/']).unwrap_or(text.len());
        return (text[..end].to_owned(), &text[end..]);
    };
    let mut name = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '"' {
            if chars.peek().map(|(_, c)| *c) == Some('"') {
                chars.next();
            } else {
                return (name, &quoted[at + 1..]);
            }
        }
        name.push(c);
    }
    (name, "")
}

/// `grantee=privileges/grantor` (an empty grantee is PUBLIC): the grantee, the
/// privileges granted plainly, those granted WITH GRANT OPTION, and the grantor.
fn acl_item(item: &str) -> Option<(String, Vec<&'static str>, Vec<&'static str>, String)> {
    let (grantee, rest) = acl_role(item);
    let rest = rest.strip_prefix('=')?;
    let (letters, grantor) = rest.split_once('/')?;
    let (grantor, _) = acl_role(grantor);
    let (mut plain, mut with_option) = (Vec::new(), Vec::new());
    let mut chars = letters.chars().peekable();
    while let Some(letter) = chars.next() {
        let word = PRIVILEGES.iter().find(|(l, _)| *l == letter)?.1;
        match chars.next_if_eq(&'*') {
            Some(_) => with_option.push(word),
            None => plain.push(word),
        }
    }
    Some((grantee, plain, with_option, grantor))
}

/// The object's privileges (`acl`, NULL when they are the defaults) as `REVOKE` and
/// `GRANT` statements that leave exactly that ACL: the defaults are revoked (PUBLIC's,
/// for kinds PUBLIC may use by default, and the owner's when the owner left itself
/// out), then every other entry is granted. The owner grants them all, so an entry another
/// role granted is refused.
fn push_privileges(
    w: &Writer<'_>,
    block: &mut Block,
    props: &mut Props<'_>,
    target: &str,
    public_by_default: bool,
) -> Result<(), String> {
    let Some(acl) = props.get("acl") else {
        return Ok(());
    };
    let id = &props.object.id;
    let owner = props.get("owner");
    let mut items = Vec::new();
    for text in text_array(acl) {
        let item = acl_item(&text)
            .ok_or_else(|| format!("{id}: generate cannot read its privilege {text:?}"))?;
        items.push(item);
    }
    // Whoever granted is the owner: the model names it only when it is not the migrating
    // user, whose name the generated set must not hold.
    let grantors: BTreeSet<String> = items.iter().map(|i| w.names.ident(&i.3)).collect();
    let grantor = match (grantors.len(), owner) {
        (1, Some(owner)) if grantors.contains(owner) => owner.to_owned(),
        (1, None) => grantors.into_iter().next().unwrap_or_default(),
        _ => {
            return Err(format!(
                "{id}: generate cannot write privileges granted by a role other than the \
                 owner ({acl})"
            ))
        }
    };
    let mut revoke_from = Vec::new();
    if public_by_default {
        revoke_from.push("PUBLIC");
    }
    let owner_listed = items.iter().any(|i| w.names.ident(&i.0) == grantor);
    if !owner_listed {
        revoke_from.push(owner.unwrap_or("CURRENT_USER"));
    }
    if !revoke_from.is_empty() {
        block.push(format!(
            "REVOKE ALL ON {target} FROM {};",
            revoke_from.join(", ")
        ));
    }
    for (grantee, plain, with_option, _) in &items {
        let grantee = match grantee.as_str() {
            "" => "PUBLIC".to_owned(),
            name => w.names.ident(name),
        };
        if grantee == grantor {
            // The owner's own entry: its privileges stay as they are by default.
            continue;
        }
        for (words, option) in [(plain, ""), (with_option, " WITH GRANT OPTION")] {
            if !words.is_empty() {
                block.push(format!(
                    "GRANT {} ON {target} TO {grantee}{option};",
                    words.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// Privileges differ from the defaults where GRANTs are not written (columns, identity
/// sequences): the object is refused by name rather than written without them.
fn refuse_privileges(props: &mut Props<'_>) -> Result<(), String> {
    match props.get("acl") {
        Some(acl) => Err(format!(
            "{}: generate cannot write its privileges ({acl})",
            props.object.id
        )),
        None => Ok(()),
    }
}

fn extension(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {name}");
    if let Some(schema) = props.get("schema").filter(|s| *s != "public") {
        sql += &format!(" WITH SCHEMA {}", w.names.ident(schema));
    }
    let version = props.get("version");
    if version.is_some() && version != w.default_versions.get(&object.id.name).map(|v| &**v) {
        sql += &format!(" VERSION {}", literal(version.unwrap_or_default()));
    }
    block.push(sql + ";");
    push_comment(block, &mut props, || format!("EXTENSION {name}"));
    // What the history changed about the objects the extension made (their privileges)
    // is not written yet.
    let unit = Unit::Object(object.id.clone());
    for member in w.member_kind(&unit, ObjectKind::ExtensionMember) {
        Props::new(member).done()?;
    }
    props.done()
}

fn schema(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    block.push(format!("CREATE SCHEMA {name};"));
    push_comment(block, &mut props, || format!("SCHEMA {name}"));
    push_owner(block, &mut props, || format!("SCHEMA {name}"));
    push_privileges(w, block, &mut props, &format!("SCHEMA {name}"), false)?;
    props.done()
}

fn enumeration(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    let labels: Vec<String> = text_array(props.get("labels").unwrap_or("{}"))
        .iter()
        .map(|l| format!("    {}", literal(l)))
        .collect();
    block.push(format!(
        "CREATE TYPE {name} AS ENUM (\n{}\n);",
        labels.join(",\n")
    ));
    push_comment(block, &mut props, || format!("TYPE {name}"));
    push_owner(block, &mut props, || format!("TYPE {name}"));
    push_privileges(w, block, &mut props, &format!("TYPE {name}"), true)?;
    props.done()
}

fn domain(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    let mut sql = format!(
        "CREATE DOMAIN {name} AS {}",
        props.get("type").unwrap_or("")
    );
    if let Some(collation) = props.get("collation") {
        sql += &format!(" COLLATE {collation}");
    }
    if let Some(default) = props.get("default") {
        sql += &format!(" DEFAULT {default}");
    }
    if props.is("nullable", "false") {
        sql += " NOT NULL";
    }
    let unit = Unit::Object(object.id.clone());
    let mut comments = Vec::new();
    for constraint in w.member_kind(&unit, ObjectKind::Constraint) {
        let mut c = Props::new(constraint);
        let member = member_name(constraint);
        sql += &format!(
            "\n    CONSTRAINT {} {}",
            member,
            check_sql(c.get("definition").unwrap_or(""))
        );
        c.get("type");
        c.get("deferrable");
        c.get("deferred");
        c.get("validated");
        if let Some(text) = c.get("comment") {
            comments.push(format!(
                "COMMENT ON CONSTRAINT {} ON DOMAIN {name} IS {};",
                member,
                literal(text)
            ));
        }
        c.done()?;
    }
    block.push(sql + ";");
    push_comment(block, &mut props, || format!("DOMAIN {name}"));
    push_owner(block, &mut props, || format!("DOMAIN {name}"));
    comments.into_iter().for_each(|c| block.push(c));
    push_privileges(w, block, &mut props, &format!("DOMAIN {name}"), true)?;
    props.done()
}

fn composite_type(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    block.push(format!(
        "CREATE TYPE {name} AS ({});",
        props.get("attributes").unwrap_or("")
    ));
    push_comment(block, &mut props, || format!("TYPE {name}"));
    push_owner(block, &mut props, || format!("TYPE {name}"));
    push_privileges(w, block, &mut props, &format!("TYPE {name}"), true)?;
    props.done()
}

/// The largest value of an integer type, the default MAXVALUE of its sequences.
fn type_max(type_name: &str) -> Option<&'static str> {
    match type_name {
        "smallint" => Some("32767"),
        "integer" => Some("2147483647"),
        "bigint" => Some("9223372036854775807"),
        _ => None,
    }
}

fn type_min(type_name: &str) -> Option<&'static str> {
    match type_name {
        "smallint" => Some("-32768"),
        "integer" => Some("-2147483648"),
        "bigint" => Some("-9223372036854775808"),
        _ => None,
    }
}

/// The options of a sequence that differ from what `CREATE SEQUENCE` (or an identity or
/// serial column of type `implied`) would choose, in `CREATE SEQUENCE` order.
fn sequence_options(props: &mut Props<'_>, implied: &str) -> Vec<String> {
    let mut options = Vec::new();
    let seq_type = props.get("type").unwrap_or("bigint");
    if seq_type != implied {
        options.push(format!("AS {seq_type}"));
    }
    let increment = props.get("increment").unwrap_or("1");
    let ascending = !increment.starts_with('-');
    if increment != "1" {
        options.push(format!("INCREMENT BY {increment}"));
    }
    let (min_default, max_default) = match ascending {
        true => (Some("1"), type_max(seq_type)),
        false => (type_min(seq_type), Some("-1")),
    };
    let min = props.get("minvalue");
    if min != min_default {
        options.push(format!("MINVALUE {}", min.unwrap_or_default()));
    }
    let max = props.get("maxvalue");
    if max != max_default {
        options.push(format!("MAXVALUE {}", max.unwrap_or_default()));
    }
    let start_default = match ascending {
        true => min,
        false => max,
    };
    let start = props.get("start");
    if start != start_default {
        options.push(format!("START WITH {}", start.unwrap_or_default()));
    }
    if let Some(cache) = props.get("cache").filter(|c| *c != "1") {
        options.push(format!("CACHE {cache}"));
    }
    if props.is("cycle", "true") {
        options.push("CYCLE".to_owned());
    }
    options
}

fn sequence(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    let options = sequence_options(&mut props, "bigint");
    let options: String = options.iter().map(|o| format!(" {o}")).collect();
    let unlogged = match props.get("persistence") {
        Some("unlogged") => "UNLOGGED ",
        _ => "",
    };
    block.push(format!("CREATE {unlogged}SEQUENCE {name}{options};"));
    props.get("owned_by");
    push_comment(block, &mut props, || format!("SEQUENCE {name}"));
    push_owner(block, &mut props, || format!("SEQUENCE {name}"));
    push_privileges(w, block, &mut props, &format!("SEQUENCE {name}"), false)?;
    props.done()
}

/// The sequence a column's `nextval` default draws from, when the sequence is owned by
/// the column, so that the column can be written `serial` (or `bigserial`).
fn serial_sequence<'s>(
    w: &'s Writer<'_>,
    unit: &Unit,
    column: &SchemaObject,
) -> Option<&'s SchemaObject> {
    let column_name = member_name(column);
    let bare_table = &column.sql.name;
    let expected = format!("{bare_table}_{column_name}_seq");
    let sequence = w
        .member_kind(unit, ObjectKind::Sequence)
        .find(|s| s.properties.get("owned_by") == Some(&column.id.name))?;
    let bare = &sequence.sql.name;
    let default = format!(
        "nextval('{}'::regclass)",
        sequence.id.name.replace('\'', "''")
    );
    let column_type = column.properties.get("type")?;
    let mut props = Props::new(sequence);
    let plain = sequence_options(&mut props, column_type).is_empty()
        && props.get("comment").is_none()
        && props.get("acl").is_none()
        && props.get("persistence")
            == column_table(w, column, "persistence").filter(|p| *p == "unlogged")
        && props
            .get("owner")
            .is_none_or(|owner| Some(owner) == column_table(w, column, "owner"));
    let serial = plain
        && *bare == expected
        && expected.len() <= 63
        && column.properties.get("default") == Some(&default)
        && column.properties.get("nullable").map(String::as_str) == Some("false")
        && type_max(column_type).is_some();
    serial.then_some(sequence)
}

/// A property of a column's table: its owner (absent for the migrating user), its
/// persistence (a serial's sequence is unlogged with its table).
fn column_table<'s>(w: &'s Writer<'_>, column: &SchemaObject, key: &str) -> Option<&'s str> {
    let table = column.table.as_ref()?;
    let id = ObjectId {
        kind: ObjectKind::Table,
        name: table.clone(),
    };
    w.schema
        .objects
        .get(&id)?
        .properties
        .get(key)
        .map(String::as_str)
}

fn serial_type(column_type: &str) -> &'static str {
    match column_type {
        "smallint" => "SMALLSERIAL",
        "integer" => "SERIAL",
        _ => "BIGSERIAL",
    }
}

/// A constraint named as PostgreSQL would name it when written on its column:
/// `<table>_<column>_pkey` (only `<table>_pkey`), `_key`, `_fkey`.
fn default_constraint_name(table: &str, column: &str, kind: &str) -> String {
    match kind {
        "primary key" => format!("{table}_pkey"),
        "unique" => format!("{table}_{column}_key"),
        _ => format!("{table}_{column}_fkey"),
    }
}

/// The one column of a constraint whose definition is `PRIMARY KEY (col)`, `UNIQUE (col)`
/// or `FOREIGN KEY (col) REFERENCES ...`, with the rest of the definition.
fn single_column<'d>(definition: &'d str, prefix: &str) -> Option<(&'d str, &'d str)> {
    let rest = definition.strip_prefix(prefix)?.strip_prefix(" (")?;
    let close = rest.find(')')?;
    let column = &rest[..close];
    (!column.contains(',') && !column.contains('"')).then(|| (column, rest[close + 1..].trim()))
}

fn table(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let id = &object.id;
    let unit = Unit::Object(id.clone());
    let name = &id.name;
    let bare_table = object.sql.name.as_str();
    for refused in ["partition_of", "inherits", "of_type"] {
        if let Some(value) = props.get(refused) {
            return Err(format!(
                "{id}: generate cannot write a table with {refused} ({value})"
            ));
        }
    }

    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut comments = Vec::new();
    for owned in w.member_kind(&unit, ObjectKind::Sequence) {
        let owned_by = owned.properties.get("owned_by");
        let is_identity = owned_by
            .and_then(|c| w.schema.objects.get(&column_id(c)))
            .is_some_and(|c| c.properties.contains_key("identity"));
        let column = owned_by.and_then(|c| w.schema.objects.get(&column_id(c)));
        if is_identity || column.is_some_and(|c| serial_sequence(w, &unit, c).is_some()) {
            continue;
        }
        let mut seq_block = Block::default();
        sequence(w, owned, &mut seq_block)?;
        before.push(seq_block.text());
        if let Some(column) = owned_by {
            after.push(format!(
                "ALTER SEQUENCE {} OWNED BY {name}.{};",
                owned.id.name,
                w.schema
                    .objects
                    .get(&column_id(column))
                    .map_or("", member_name)
            ));
        }
    }

    // Constraints written on their column, then those written after the columns.
    let mut on_column: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut table_constraints = Vec::new();
    for constraint in w.member_kind(&unit, ObjectKind::Constraint) {
        let mut c = Props::new(constraint);
        let member = member_name(constraint);
        let kind = c.get("type").unwrap_or("");
        let definition = c.get("definition").unwrap_or("");
        c.get("deferrable");
        c.get("deferred");
        c.get("validated");
        let options = c.get("options");
        if let Some(text) = c.get("comment") {
            comments.push(format!(
                "COMMENT ON CONSTRAINT {} ON {name} IS {};",
                member,
                literal(text)
            ));
        }
        c.done()?;
        if kind == "trigger" {
            // A constraint trigger is written by its trigger.
            continue;
        }
        let with = options.map(|o| format!(" WITH ({o})")).unwrap_or_default();
        if definition.ends_with(" NOT VALID") {
            after.push(format!(
                "ALTER TABLE {name} ADD CONSTRAINT {} {definition};",
                member
            ));
            continue;
        }
        let prefix = match kind {
            "primary key" => "PRIMARY KEY",
            "unique" => "UNIQUE",
            "foreign key" => "FOREIGN KEY",
            _ => "",
        };
        let column_form = single_column(definition, prefix).filter(|(column, rest)| {
            member == default_constraint_name(bare_table, column, kind)
                && options.is_none()
                && (kind == "foreign key" || rest.is_empty())
                && !prefix.is_empty()
        });
        match column_form {
            Some((column, rest)) => {
                let text = match kind {
                    "foreign key" => rest.to_owned(),
                    _ => prefix.to_owned(),
                };
                on_column.entry(column.to_owned()).or_default().push(text);
            }
            None => table_constraints.push(format!(
                "    CONSTRAINT {} {}{with}",
                member,
                check_sql(definition)
            )),
        }
    }
    // Foreign keys kept inline; the others are units of their own.
    for fk in w
        .inline_foreign_keys
        .iter()
        .filter(|fk| w.schema.objects[*fk].table.as_deref() == Some(&id.name))
    {
        let constraint = &w.schema.objects[fk];
        let member = member_name(&w.schema.objects[fk]);
        let definition = constraint.properties["definition"].as_str();
        match single_column(definition, "FOREIGN KEY")
            .filter(|(column, _)| member == default_constraint_name(bare_table, column, ""))
        {
            Some((column, rest)) => on_column
                .entry(column.to_owned())
                .or_default()
                .push(rest.to_owned()),
            None => table_constraints.push(format!("    CONSTRAINT {} {definition}", member)),
        }
        if let Some(text) = constraint.properties.get("comment") {
            comments.push(format!(
                "COMMENT ON CONSTRAINT {} ON {name} IS {};",
                member,
                literal(text)
            ));
        }
    }

    let mut lines = Vec::new();
    let order = w
        .schema
        .column_order
        .get(&id.name)
        .cloned()
        .unwrap_or_default();
    for column_name in &order {
        let column = &w.schema.objects[&column_id(&format!("{}.{column_name}", id.name))];
        let (line, extra) = column_line(w, &unit, &id.name, column, &mut comments)?;
        let constraints = on_column.remove(column_name).unwrap_or_default();
        let mut line = line;
        for c in constraints {
            line += &format!(" {c}");
        }
        lines.push(format!("    {line}"));
        after.extend(extra);
    }
    if let Some((column, _)) = on_column.into_iter().next() {
        return Err(format!(
            "{id}: a constraint on column {column}, which it does not have"
        ));
    }
    lines.extend(table_constraints);

    let persistence = match props.get("persistence") {
        Some("unlogged") => "UNLOGGED ",
        Some("permanent") | None => "",
        Some(other) => return Err(format!("{id}: generate cannot write a {other} table")),
    };
    let mut sql = match props.get("kind") {
        Some("table" | "partitioned table") | None => {
            format!("CREATE {persistence}TABLE {name} (")
        }
        Some(kind) => return Err(format!("{id}: generate cannot write a {kind}")),
    };
    sql += &format!("\n{}\n)", lines.join(",\n"));
    if let Some(key) = props.get("partition_key") {
        sql += &format!(" PARTITION BY {key}");
    }
    props.get("partition_bound");
    if let Some(options) = props.get("options") {
        sql += &format!(" WITH ({options})");
    }
    for statement in before {
        block.push(statement);
    }
    block.push(sql + ";");

    let indexes: Vec<String> = w
        .member_kind(&unit, ObjectKind::Index)
        .map(|index| index_sql(index, &mut comments))
        .collect::<Result<_, _>>()?;
    if !indexes.is_empty() {
        block.group();
        indexes.into_iter().for_each(|i| block.push(i));
    }

    if props.is("row_security", "true") {
        after.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
    }
    if props.is("force_row_security", "true") {
        after.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;"));
    }
    match props.get("replica_identity") {
        Some("default") | None => {}
        Some(identity @ ("full" | "nothing")) => after.push(format!(
            "ALTER TABLE {name} REPLICA IDENTITY {};",
            identity.to_uppercase()
        )),
        Some(other) => {
            return Err(format!(
                "{id}: generate cannot write replica identity {other}"
            ))
        }
    }
    if let Some(index) = props.get("clustered_on") {
        after.push(format!("ALTER TABLE {name} CLUSTER ON {};", index));
    }
    if let Some(owner) = props.get("owner") {
        after.push(format!("ALTER TABLE {name} OWNER TO {owner};"));
    }
    if !after.is_empty() {
        block.group();
        after.into_iter().for_each(|a| block.push(a));
    }
    let mut table_comment = Vec::new();
    if let Some(text) = props.get("comment") {
        table_comment.push(format!("COMMENT ON TABLE {name} IS {};", literal(text)));
    }
    if !table_comment.is_empty() || !comments.is_empty() {
        block.group();
        table_comment
            .into_iter()
            .chain(comments)
            .for_each(|c| block.push(c));
    }
    block.group();
    push_privileges(w, block, &mut props, &format!("TABLE {name}"), false)?;
    props.done()
}

fn column_id(name: &str) -> ObjectId {
    ObjectId {
        kind: ObjectKind::Column,
        name: name.to_owned(),
    }
}

/// A column as written in `CREATE TABLE`, and the `ALTER TABLE` statements for what
/// cannot be written there (storage, compression, statistics, options).
fn column_line(
    w: &Writer<'_>,
    unit: &Unit,
    table: &str,
    column: &SchemaObject,
    comments: &mut Vec<String>,
) -> Result<(String, Vec<String>), String> {
    let mut props = Props::new(column);
    let name = member_name(column);
    let qualified_table = table;
    let column_type = props.get("type").unwrap_or("");
    let serial = serial_sequence(w, unit, column);
    let mut line = match serial {
        Some(_) => format!("{name} {}", serial_type(column_type)),
        None => format!("{name} {column_type}"),
    };
    if let Some(collation) = props.get("collation") {
        line += &format!(" COLLATE {collation}");
    }
    if let Some(expression) = props.get("generated") {
        line += &format!(" GENERATED ALWAYS AS ({expression}) STORED");
    }
    let default = props.get("default");
    if serial.is_none() {
        if let Some(default) = default {
            line += &format!(" DEFAULT {default}");
        }
    }
    if let Some(identity) = props.get("identity") {
        let word = match identity {
            "always" => "ALWAYS",
            _ => "BY DEFAULT",
        };
        line += &format!(" GENERATED {word} AS IDENTITY");
        let sequence = w
            .member_kind(unit, ObjectKind::Sequence)
            .find(|s| s.properties.get("owned_by") == Some(&column.id.name));
        if let Some(sequence) = sequence {
            let mut options = Vec::new();
            if sequence.sql.name != format!("{}_{name}_seq", column.sql.name) {
                options.push(format!("SEQUENCE NAME {}", sequence.id.name));
            }
            let mut seq = Props::new(sequence);
            options.extend(sequence_options(&mut seq, column_type));
            seq.get("owned_by");
            // An identity's sequence changes owner with its table.
            seq.get("owner");
            seq.get("persistence");
            if let Some(text) = seq.get("comment") {
                comments.push(format!(
                    "COMMENT ON SEQUENCE {} IS {};",
                    sequence.id.name,
                    literal(text)
                ));
            }
            refuse_privileges(&mut seq)?;
            seq.done()?;
            if !options.is_empty() {
                line += &format!(" ({})", options.join(" "));
            }
        }
    } else if props.is("nullable", "false") && serial.is_none() {
        line += " NOT NULL";
    }
    props.get("nullable");

    let mut after = Vec::new();
    let alter = format!("ALTER TABLE {qualified_table} ALTER COLUMN {name}");
    if let Some(storage) = props.get("storage") {
        after.push(format!("{alter} SET STORAGE {};", storage.to_uppercase()));
    }
    if let Some(compression) = props.get("compression") {
        after.push(format!("{alter} SET COMPRESSION {compression};"));
    }
    if let Some(statistics) = props.get("statistics") {
        after.push(format!("{alter} SET STATISTICS {statistics};"));
    }
    if let Some(options) = props.get("options") {
        after.push(format!("{alter} SET ({options});"));
    }
    if let Some(text) = props.get("comment") {
        comments.push(format!(
            "COMMENT ON COLUMN {qualified_table}.{name} IS {};",
            literal(text)
        ));
    }
    refuse_privileges(&mut props)?;
    props.done()?;
    Ok((line, after))
}

/// An index definition as printed, without the noise a reviewer would not write: the
/// `public.` before the table and the default method `USING btree`.
fn index_sql(index: &SchemaObject, comments: &mut Vec<String>) -> Result<String, String> {
    let mut props = Props::new(index);
    let definition = props.get("definition").unwrap_or("");
    if props.get("valid") == Some("false") {
        return Err(format!(
            "{}: the index is invalid (a CREATE INDEX CONCURRENTLY that failed); drop or \
             rebuild it in the history",
            index.id
        ));
    }
    let mut sql =
        definition
            .replacen(" ON public.", " ON ", 1)
            .replacen(" ON ONLY public.", " ON ONLY ", 1);
    sql = sql.replacen(" USING btree (", " (", 1);
    if let Some(text) = props.get("comment") {
        comments.push(format!(
            "COMMENT ON INDEX {} IS {};",
            index.id.name,
            literal(text)
        ));
    }
    props.done()?;
    Ok(sql + ";")
}

fn view(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let id = &object.id;
    let name = &id.name;
    let materialized = id.kind == ObjectKind::MaterializedView;
    let what = match materialized {
        true => "MATERIALIZED VIEW",
        false => "VIEW",
    };
    let options = props
        .get("options")
        .map(|o| format!(" WITH ({o})"))
        .unwrap_or_default();
    let definition = props.get("definition").unwrap_or("").trim_end();
    let mut sql = format!("CREATE {what} {name}{options} AS\n{definition}");
    if materialized {
        let data = match props.get("populated") {
            Some("false") => "WITH NO DATA",
            _ => "WITH DATA",
        };
        sql = format!("{}\n{data};", sql.trim_end_matches(';'));
    } else {
        props.get("populated");
    }
    block.push(sql);
    let unit = Unit::Object(id.clone());
    let mut comments = Vec::new();
    let indexes: Vec<String> = w
        .member_kind(&unit, ObjectKind::Index)
        .map(|index| index_sql(index, &mut comments))
        .collect::<Result<_, _>>()?;
    for column in w.member_kind(&unit, ObjectKind::Column) {
        let mut c = Props::new(column);
        for derived in [
            "type",
            "nullable",
            "collation",
            "storage",
            "compression",
            "statistics",
            "options",
            "default",
        ] {
            // Printed from the view's query; a view column's default is refused below.
            if derived != "default" {
                c.get(derived);
            }
        }
        if let Some(text) = c.get("comment") {
            comments.push(format!(
                "COMMENT ON COLUMN {name}.{} IS {};",
                member_name(column),
                literal(text)
            ));
        }
        refuse_privileges(&mut c)?;
        c.done()?;
    }
    indexes.into_iter().for_each(|i| block.push(i));
    push_comment(block, &mut props, || format!("{what} {name}"));
    push_owner(block, &mut props, || format!("{what} {name}"));
    comments.into_iter().for_each(|c| block.push(c));
    push_privileges(w, block, &mut props, &format!("TABLE {name}"), false)?;
    props.done()
}

fn function(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let kind = props.get("kind").unwrap_or("function");
    if kind == "aggregate" {
        return Err(format!("{}: generate cannot write an aggregate", object.id));
    }
    let definition = props.get("definition").unwrap_or("").trim_end();
    let definition = definition
        .replacen(
            "CREATE OR REPLACE FUNCTION public.",
            "CREATE OR REPLACE FUNCTION ",
            1,
        )
        .replacen(
            "CREATE OR REPLACE PROCEDURE public.",
            "CREATE OR REPLACE PROCEDURE ",
            1,
        );
    block.push(format!("{definition};"));
    let what = match kind {
        "procedure" => "PROCEDURE",
        _ => "FUNCTION",
    };
    push_comment(block, &mut props, || format!("{what} {}", object.id.name));
    push_owner(block, &mut props, || format!("{what} {}", object.id.name));
    push_privileges(
        w,
        block,
        &mut props,
        &format!("{what} {}", object.id.name),
        true,
    )?;
    props.done()
}

fn trigger(_w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let table = object.table.as_deref().unwrap_or("");
    let table_name = table;
    let name = member_name(object);
    block.push(trigger_sql(props.get("definition").unwrap_or("")));
    match props.get("enabled") {
        Some("enabled") | None => {}
        Some(state) => {
            let word = match state {
                "disabled" => "DISABLE",
                "replica" => "ENABLE REPLICA",
                _ => "ENABLE ALWAYS",
            };
            block.push(format!("ALTER TABLE {table_name} {word} TRIGGER {name};"));
        }
    }
    push_comment(block, &mut props, || {
        format!("TRIGGER {name} ON {table_name}")
    });
    props.done()
}

/// A trigger as printed, on the lines a reviewer would break it at, without `public.`
/// before its table.
fn trigger_sql(definition: &str) -> String {
    let mut sql =
        definition
            .replacen(" ON public.", " ON ", 1)
            .replacen(" FROM public.", " FROM ", 1);
    for clause in [" EXECUTE FUNCTION ", " FOR EACH ", " REFERENCING "] {
        if let Some(at) = sql.rfind(clause) {
            sql.replace_range(at..at + 1, "\n    ");
        }
    }
    for clause in [" BEFORE ", " AFTER ", " INSTEAD OF "] {
        if let Some(at) = sql.find(clause) {
            sql.replace_range(at..at + 1, "\n    ");
            break;
        }
    }
    sql + ";"
}

/// `CHECK ((a = b))` as `CHECK (a = b)`: the server wraps the expression in one more pair
/// of parentheses than a person writes.
fn check_sql(definition: &str) -> String {
    let Some(inner) = definition
        .strip_prefix("CHECK ((")
        .and_then(|rest| rest.find("))").map(|_| rest))
    else {
        return definition.to_owned();
    };
    // `inner` starts after the second parenthesis; find where it closes.
    let mut depth = 1;
    let mut quote: Option<char> = None;
    for (at, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    let rest = &inner[at + 1..];
                    return match rest.strip_prefix(')') {
                        Some(tail) => format!("CHECK ({}){tail}", &inner[..at]),
                        None => definition.to_owned(),
                    };
                }
            }
            _ => {}
        }
    }
    definition.to_owned()
}

fn policy(w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let table = object.table.as_deref().unwrap_or("");
    let table_name = table;
    let name = member_name(object);
    let mut sql = format!("CREATE POLICY {name} ON {table_name}");
    if props.is("type", "restrictive") {
        sql += " AS RESTRICTIVE";
    }
    match props.get("command") {
        Some("ALL") | None => {}
        Some(command) => sql += &format!(" FOR {command}"),
    }
    let roles = text_array(props.get("roles").unwrap_or("{public}"));
    if roles != ["public"] {
        let roles: Vec<String> = roles.iter().map(|r| w.names.ident(r)).collect();
        sql += &format!(" TO {}", roles.join(", "));
    }
    if let Some(using) = props.get("using") {
        sql += &format!("\n    USING ({using})");
    }
    if let Some(check) = props.get("with_check") {
        sql += &format!("\n    WITH CHECK ({check})");
    }
    block.push(sql + ";");
    push_comment(block, &mut props, || {
        format!("POLICY {name} ON {table_name}")
    });
    props.done()
}

fn rule(_w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let table = object.table.as_deref().unwrap_or("");
    let name = member_name(object);
    let definition = props.get("definition").unwrap_or("").trim_end();
    block.push(definition.replacen(" TO public.", " TO ", 1));
    match props.get("enabled") {
        Some("enabled") | None => {}
        Some(state) => {
            let word = match state {
                "disabled" => "DISABLE",
                "replica" => "ENABLE REPLICA",
                _ => "ENABLE ALWAYS",
            };
            block.push(format!("ALTER TABLE {table} {word} RULE {name};"));
        }
    }
    push_comment(block, &mut props, || format!("RULE {name} ON {table}"));
    props.done()
}

fn statistics(_w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let name = &object.id.name;
    let definition = props.get("definition").unwrap_or("");
    let definition = definition
        .replacen("CREATE STATISTICS public.", "CREATE STATISTICS ", 1)
        .replacen(" FROM public.", " FROM ", 1);
    block.push(format!("{definition};"));
    if let Some(target) = props.get("statistics") {
        block.push(format!("ALTER STATISTICS {name} SET STATISTICS {target};"));
    }
    push_comment(block, &mut props, || format!("STATISTICS {name}"));
    push_owner(block, &mut props, || format!("STATISTICS {name}"));
    props.done()
}

/// A foreign key whose target is created later than its table (or in a cycle): added
/// once both exist.
fn foreign_key(_w: &Writer<'_>, object: &SchemaObject, block: &mut Block) -> Result<(), String> {
    let mut props = Props::new(object);
    let table = object.table.as_deref().unwrap_or("");
    let table_name = table;
    let name = member_name(object);
    block.push(format!(
        "ALTER TABLE {table_name} ADD CONSTRAINT {name} {};",
        props.get("definition").unwrap_or("")
    ));
    for flag in ["type", "deferrable", "deferred", "validated"] {
        props.get(flag);
    }
    push_comment(block, &mut props, || {
        format!("CONSTRAINT {name} ON {table_name}")
    });
    props.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_constraints_lose_the_server_s_extra_parentheses_only() {
        assert_eq!(check_sql("CHECK ((a = lower(a)))"), "CHECK (a = lower(a))");
        assert_eq!(
            check_sql("CHECK ((a > 0)) NOT VALID"),
            "CHECK (a > 0) NOT VALID"
        );
        assert_eq!(
            check_sql("CHECK ((a > 0) AND (b > 0))"),
            "CHECK ((a > 0) AND (b > 0))"
        );
        assert_eq!(check_sql("CHECK ((a = ')'))"), "CHECK (a = ')')");
        assert_eq!(check_sql("CHECK (f(a))"), "CHECK (f(a))");
    }

    #[test]
    fn acl_items_are_read_with_quoted_roles_and_grant_options() {
        assert_eq!(
            acl_item("=X/owner"),
            Some((String::new(), vec!["EXECUTE"], vec![], "owner".to_owned()))
        );
        assert_eq!(
            acl_item(r#""my ""role"""=ar*/"Boss""#),
            Some((
                "my \"role\"".to_owned(),
                vec!["INSERT"],
                vec!["SELECT"],
                "Boss".to_owned()
            ))
        );
        assert_eq!(acl_item("reader=q/owner"), None);
    }

    #[test]
    fn triggers_are_broken_into_clauses() {
        assert_eq!(
            trigger_sql(
                "CREATE TRIGGER t AFTER INSERT ON public.e FOR EACH ROW EXECUTE FUNCTION f()"
            ),
            "CREATE TRIGGER t\n    AFTER INSERT ON e\n    FOR EACH ROW\n    EXECUTE FUNCTION f();"
        );
    }
}
