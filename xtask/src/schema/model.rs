//! The schema model: plain data that introspection fills and every later step reads.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Every kind of object the comparison covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Extension,
    ExtensionMember,
    Schema,
    Enum,
    Domain,
    CompositeType,
    Sequence,
    Table,
    Column,
    Constraint,
    Index,
    View,
    MaterializedView,
    Function,
    Trigger,
    Policy,
    Rule,
    EventTrigger,
    RangeType,
    DefaultPrivileges,
    Collation,
    Cast,
    Operator,
    OperatorClass,
    OperatorFamily,
    TextSearchConfiguration,
    TextSearchDictionary,
    TextSearchParser,
    TextSearchTemplate,
    Statistics,
    Publication,
    Subscription,
    ForeignDataWrapper,
    ForeignServer,
    UserMapping,
    Conversion,
    AccessMethod,
    Language,
    LargeObject,
    Database,
    Parameter,
    Role,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 42] = [
        ObjectKind::Extension,
        ObjectKind::ExtensionMember,
        ObjectKind::Schema,
        ObjectKind::Enum,
        ObjectKind::Domain,
        ObjectKind::CompositeType,
        ObjectKind::Sequence,
        ObjectKind::Table,
        ObjectKind::Column,
        ObjectKind::Constraint,
        ObjectKind::Index,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Function,
        ObjectKind::Trigger,
        ObjectKind::Policy,
        ObjectKind::Rule,
        ObjectKind::EventTrigger,
        ObjectKind::RangeType,
        ObjectKind::DefaultPrivileges,
        ObjectKind::Collation,
        ObjectKind::Cast,
        ObjectKind::Operator,
        ObjectKind::OperatorClass,
        ObjectKind::OperatorFamily,
        ObjectKind::TextSearchConfiguration,
        ObjectKind::TextSearchDictionary,
        ObjectKind::TextSearchParser,
        ObjectKind::TextSearchTemplate,
        ObjectKind::Statistics,
        ObjectKind::Publication,
        ObjectKind::Subscription,
        ObjectKind::ForeignDataWrapper,
        ObjectKind::ForeignServer,
        ObjectKind::UserMapping,
        ObjectKind::Conversion,
        ObjectKind::AccessMethod,
        ObjectKind::Language,
        ObjectKind::LargeObject,
        ObjectKind::Database,
        ObjectKind::Parameter,
        ObjectKind::Role,
    ];

    /// The word a person uses for the kind: `column`, `materialized view`.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Extension => "extension",
            ObjectKind::ExtensionMember => "extension member",
            ObjectKind::Schema => "schema",
            ObjectKind::Enum => "enum",
            ObjectKind::Domain => "domain",
            ObjectKind::CompositeType => "type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Policy => "policy",
            ObjectKind::Rule => "rule",
            ObjectKind::EventTrigger => "event trigger",
            ObjectKind::RangeType => "range type",
            ObjectKind::DefaultPrivileges => "default privileges",
            ObjectKind::Collation => "collation",
            ObjectKind::Cast => "cast",
            ObjectKind::Operator => "operator",
            ObjectKind::OperatorClass => "operator class",
            ObjectKind::OperatorFamily => "operator family",
            ObjectKind::TextSearchConfiguration => "text search configuration",
            ObjectKind::TextSearchDictionary => "text search dictionary",
            ObjectKind::TextSearchParser => "text search parser",
            ObjectKind::TextSearchTemplate => "text search template",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Publication => "publication",
            ObjectKind::Subscription => "subscription",
            ObjectKind::ForeignDataWrapper => "foreign data wrapper",
            ObjectKind::ForeignServer => "server",
            ObjectKind::UserMapping => "user mapping",
            ObjectKind::Conversion => "conversion",
            ObjectKind::AccessMethod => "access method",
            ObjectKind::Language => "language",
            ObjectKind::LargeObject => "large object",
            ObjectKind::Database => "database",
            ObjectKind::Parameter => "parameter",
            ObjectKind::Role => "role",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Identity of an object within one database: its kind and its name.
///
/// Names are what a person would write: `trigger.webhook_config` for a column,
/// `idx_event_rule` for an index, `enable_trigger_webhook(bigint, jsonb)` for a function,
/// `trigger.trigger_ref_format` for a constraint; qualified with the schema when it is not
/// `public` (`auth.users`). Each part is quoted as PostgreSQL quotes identifiers, so that
/// `"audit.thing"` (one table in `public`) and `audit.thing` (a table in `audit`), or `"A"`
/// and `a`, are different names; see [`SqlName::display`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    pub kind: ObjectKind,
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One object and the properties compared one by one (definitions as PostgreSQL prints
/// them, flags, comment, privileges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaObject {
    pub id: ObjectId,
    /// The table (or view) the object belongs to, for grouping a report; `None` for
    /// free-standing objects such as functions and types.
    pub table: Option<String>,
    /// How SQL names the object, part by part: use it rather than taking `id.name` apart.
    pub sql: SqlName,
    pub properties: BTreeMap<String, String>,
}

/// How SQL names an object: its parts quoted exactly as PostgreSQL quotes identifiers
/// (`quote_ident`), read from the catalog, so that nobody has to take a display name apart
/// (a table may be named `"a.b"`). Filled by introspection; empty in objects built by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SqlName {
    /// The schema (`public`, `auth`, `"My Schema"`); `None` for objects no schema holds
    /// (schemas, extensions).
    pub schema: Option<String>,
    /// The object's own name (`pack`, `"audit.thing"`, `touch`); for a member, the name of
    /// the table, view, domain or extension it belongs to. For a kind whose objects are
    /// not named by identifiers (a cast, a user mapping), the display name.
    pub name: String,
    /// A member's own name: a column, constraint, trigger or policy of a table or view, a
    /// constraint of a domain (`ref`, `"My Column"`); for an extension member, the object
    /// as `ALTER EXTENSION ... ADD` can name it
    /// (`function public.digest(pg_catalog.text,pg_catalog.text)`).
    pub member: Option<String>,
    /// A routine's argument types as `oidvectortypes` prints them, in parentheses:
    /// `(integer, text)`.
    pub arguments: Option<String>,
}

impl SqlName {
    /// Schema-qualified, ready to paste into SQL: `public.pack`, `auth."a.b"`,
    /// `public.add(integer, integer)`; for a member, the table, domain or extension it
    /// belongs to (`ALTER TABLE {qualified} ALTER COLUMN {member}`).
    pub fn qualified(&self) -> String {
        let mut sql = match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        };
        if self.member.is_none() {
            sql.push_str(self.arguments.as_deref().unwrap_or(""));
        }
        sql
    }

    /// The model's name for the object ([`ObjectId::name`]): the schema left out in
    /// `public`, a member after its table (`t.id`), a routine with its argument types.
    pub fn display(&self) -> String {
        let mut name = match self.schema.as_deref() {
            Some(schema) if schema != "public" => format!("{schema}.{}", self.name),
            _ => self.name.clone(),
        };
        if let Some(member) = &self.member {
            name.push('.');
            name.push_str(member);
        }
        name.push_str(self.arguments.as_deref().unwrap_or(""));
        name
    }
}

impl SchemaObject {
    pub fn new(kind: ObjectKind, name: impl Into<String>, table: Option<String>) -> Self {
        SchemaObject {
            id: ObjectId {
                kind,
                name: name.into(),
            },
            table,
            sql: SqlName::default(),
            properties: BTreeMap::new(),
        }
    }

    /// Sets a property; `None` values are left out, so an absent property and a NULL one
    /// are the same thing.
    pub fn set(&mut self, key: &str, value: Option<impl Into<String>>) -> &mut Self {
        if let Some(value) = value {
            self.properties.insert(key.to_owned(), value.into());
        }
        self
    }
}

/// Everything introspection found in one database.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Schema {
    /// `server_version` of the server that was introspected.
    pub server_version: String,
    pub objects: BTreeMap<ObjectId, SchemaObject>,
    /// The live columns of each table (by display name), in their physical order, as
    /// quoted identifiers. Kept apart from the columns' properties because order
    /// legitimately changes in a consolidation.
    pub column_order: BTreeMap<String, Vec<String>>,
}

impl Schema {
    #[cfg(test)]
    pub fn insert(&mut self, object: SchemaObject) {
        self.objects.insert(object.id.clone(), object);
    }

    /// Number of objects of each kind, in the order of [`ObjectKind::ALL`].
    pub fn counts(&self) -> Vec<(ObjectKind, usize)> {
        ObjectKind::ALL
            .iter()
            .map(|&kind| {
                let n = self.objects.keys().filter(|id| id.kind == kind).count();
                (kind, n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SqlName;

    fn sql_name(schema: Option<&str>, name: &str, member: Option<&str>) -> SqlName {
        SqlName {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            member: member.map(str::to_owned),
            arguments: None,
        }
    }

    #[test]
    fn display_names_leave_public_out_and_keep_the_quotes() {
        assert_eq!(sql_name(Some("public"), "pack", None).display(), "pack");
        assert_eq!(
            sql_name(Some("public"), "\"audit.thing\"", None).display(),
            "\"audit.thing\""
        );
        assert_eq!(
            sql_name(Some("audit"), "thing", None).display(),
            "audit.thing"
        );
        assert_eq!(
            sql_name(Some("\"Public\""), "t", Some("\"A\"")).display(),
            "\"Public\".t.\"A\""
        );
        assert_eq!(sql_name(None, "plpgsql", None).display(), "plpgsql");
    }

    #[test]
    fn qualified_names_always_hold_the_schema_and_a_member_names_its_table() {
        let mut function = sql_name(Some("public"), "add", None);
        function.arguments = Some("(integer, integer)".to_owned());
        assert_eq!(function.qualified(), "public.add(integer, integer)");
        assert_eq!(function.display(), "add(integer, integer)");
        let column = sql_name(Some("auth"), "users", Some("\"Name\""));
        assert_eq!(column.qualified(), "auth.users");
        assert_eq!(column.display(), "auth.users.\"Name\"");
    }
}
