//! The catalog queries, one per object kind, each for the whole database.
//!
//! Every query returns text columns only, each with one of these names:
//! - `sql_schema`, `sql_name`, `sql_member`, `sql_arguments`: the object's name, part by
//!   part, quoted by `quote_ident` (see [`SqlName`](crate::schema::model::SqlName), from
//!   which the model's display name is built); [`object_name`] and [`member_name`] give the
//!   first ones. A kind whose objects are not named by identifiers (a cast is
//!   `(integer AS text)`) returns `name` instead, its display name, also used as `sql_name`
//!   when that is not given.
//! - `table`, optionally: the display name of the table the object belongs to
//!   ([`display_name`]).
//! - `owner`, for kinds whose objects have an owner: select it with [`owner`], which
//!   leaves it out when the replaying user owns the object.
//! - Any other column is a property, named as the property. A NULL column is an absent
//!   property. The one exception is the column query's `position`, a number that orders
//!   each table's columns and is not a property.
//!
//! A catalog column that not every supported major has is written `{{alias.column}}`, and
//! [`Capabilities`](crate::pg::Capabilities) fills it in for the server at hand.
//!
//! What every query leaves out, because it is not schema or not ours:
//! - system schemas (`pg_catalog`, `information_schema`, `pg_toast*`, `pg_temp*`);
//! - objects that belong to an extension (`pg_depend.deptype = 'e'`): the extension and its
//!   version stand for them, and [`EXTENSION_MEMBERS`] names them with what a migration
//!   can change of them;
//! - the `_sqlx_migrations` bookkeeping table with its columns, constraints and indexes;
//! - OIDs, raw `attnum`, dropped columns, `atthasmissing`, sequence positions.
//!
//! The kinds that most databases have none of (rules, event triggers, range types, default
//! privileges, collations, casts, operators, text search, statistics objects, publications,
//! subscriptions, foreign data wrappers, servers and user mappings, and the rest) are read
//! by [`super::kinds`], and only when the database has any.
//!
//! Not covered: the tablespace an object is stored in, and settings made for a role in
//! every database (`ALTER ROLE ... SET`), which belong with the roles.

use crate::schema::catalog::{display_name, not_extension_member, user_namespace, user_relation};

/// The naming columns of an object named `$name` in the namespace `$n` (a `pg_namespace`
/// alias): `sql_schema` and `sql_name`, quoted.
macro_rules! object_name {
    ($n:literal, $name:literal) => {
        concat!(
            "quote_ident(",
            $n,
            ".nspname) AS sql_schema, quote_ident(",
            $name,
            ") AS sql_name"
        )
    };
}

/// The naming columns of a member named `$member` of the table or domain named `$of` in
/// the namespace `$n`: those of [`object_name`] for the table or domain, and `sql_member`.
macro_rules! member_name {
    ($n:literal, $of:literal, $member:literal) => {
        concat!(
            object_name!($n, $of),
            ", quote_ident(",
            $member,
            ") AS sql_member"
        )
    };
}

/// The owner (the role OID expression `$owner`) as an `owner` column: the role's name,
/// quoted, or NULL when it is the user reading the catalog, who replayed the migrations,
/// so that a model where that user owns everything says nothing of owners (and a
/// generator writes `OWNER TO` only where it is needed). Every kind whose objects have an
/// owner selects `owner!("<catalog>.<x>owner")`.
macro_rules! owner {
    ($owner:literal) => {
        concat!(
            "NULLIF(quote_ident(pg_get_userbyid(",
            $owner,
            ")), quote_ident(current_user)) AS owner"
        )
    };
}

/// The tablespace of a relation (`$oid`, its `reltablespace`) as a `tablespace` column;
/// NULL in the database's default one, where nearly everything is, and then not looked up.
macro_rules! tablespace {
    ($oid:literal) => {
        concat!(
            "CASE WHEN ",
            $oid,
            " <> 0 THEN (SELECT quote_ident(s.spcname) FROM pg_tablespace s WHERE s.oid = ",
            $oid,
            ") END AS tablespace"
        )
    };
}

/// Privileges as a sorted `aclitem[]` text, so grant order does not matter; NULL when they
/// are the defaults for the object's kind and owner, whether the catalog says NULL or
/// spells the defaults out (after a GRANT that was revoked again).
macro_rules! acl {
    ($acl:literal, $kind:literal, $owner:literal) => {
        concat!(
            "(CASE WHEN ", $acl, " IS NOT NULL THEN",
            " (SELECT CASE WHEN g.items IS NOT DISTINCT FROM d.items THEN NULL ELSE g.items::text END",
            " FROM (SELECT array_agg(a::text ORDER BY a::text) AS items",
            " FROM unnest(coalesce(", $acl, ", acldefault(", $kind, ", ", $owner, "))) a) g,",
            " (SELECT array_agg(a::text ORDER BY a::text) AS items",
            " FROM unnest(acldefault(", $kind, ", ", $owner, ")) a) d) END)"
        )
    };
}

/// Storage parameters (`reloptions`, `attoptions`) sorted, as `key=value, ...`. The
/// `pg_attver` entry that some builds of the server (Debian's 15.20 among them) stamp into
/// every column's options is a creation counter, not schema, and is left out; when it is
/// the only entry, as it is for nearly every column, the sorting subquery is not run.
macro_rules! options {
    ($options:literal) => {
        concat!(
            "(CASE WHEN ",
            $options,
            " IS NULL OR (cardinality(",
            $options,
            ") = 1 AND (",
            $options,
            ")[1] LIKE 'pg\\_attver=%') THEN NULL",
            " ELSE (SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(",
            $options,
            ") o",
            " WHERE o NOT LIKE 'pg\\_attver=%') END)"
        )
    };
}

/// Joins the comment on an object (`$oid` in the catalog `$catalog`, sub-object `$subid`: a
/// column's `attnum`, or 0) as `ds.description`, which `obj_description`/`col_description`
/// would give. Those are SQL functions that are not inlined, and calling one per row cost
/// more than the index lookup it wraps; a correlated subquery per row still cost an index
/// scan each, where the join reads `pg_description` once (it is unique on
/// `(objoid, classoid, objsubid)`, so no row is repeated).
macro_rules! comment_join {
    ($oid:literal, $catalog:literal) => {
        comment_join!($oid, $catalog, "0")
    };
    ($oid:literal, $catalog:literal, $subid:literal) => {
        concat!(
            "
LEFT JOIN pg_description ds ON ds.objoid = ",
            $oid,
            " AND ds.classoid = '",
            $catalog,
            "'::regclass AND ds.objsubid = ",
            $subid
        )
    };
}

/// Extensions are database-wide, so their names are not qualified. Every extension counts,
/// `plpgsql` too: a database without it is a different database.
pub(super) const EXTENSIONS: &str = concat!(
    "
SELECT quote_ident(x.extname) AS sql_name,
       x.extversion AS version,
       n.nspname::text AS schema,
       ds.description AS comment,
       ",
    owner!("x.extowner"),
    "
FROM pg_extension x
JOIN pg_namespace n ON n.oid = x.extnamespace",
    comment_join!("x.oid", "pg_extension")
);

/// The objects that belong to an extension, named after it as PostgreSQL describes them
/// (`pgcrypto: function digest(text,text)`; `sql_member` is the fully qualified identity),
/// so that an object added to or dropped from an extension (`ALTER EXTENSION ... ADD`) is
/// named. What the extension's script made
/// of them is the extension's version; what a migration did to them afterwards is `acl`:
/// their privileges where these are no longer the ones the script left, which
/// `pg_init_privs` records (or the defaults, where it records none). Members are few: the
/// per-member subqueries sort a handful of privileges each.
pub(super) const EXTENSION_MEMBERS: &str = "
SELECT quote_ident(m.extname) || ': ' || pg_describe_object(m.classid, m.objid, 0) AS name,
       quote_ident(m.extname) AS sql_name,
       io.type || ' ' || io.identity AS sql_member,
       CASE WHEN now_acl.items IS DISTINCT FROM init_acl.items THEN now_acl.items::text END AS acl
FROM (SELECT x.extname, d.classid, d.objid, ip.initprivs,
             coalesce(p.proacl, c.relacl, t.typacl, n.nspacl) AS acl,
             CASE WHEN p.oid IS NOT NULL THEN acldefault('f', p.proowner)
                  WHEN c.oid IS NOT NULL
                  THEN acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\", c.relowner)
                  WHEN t.oid IS NOT NULL THEN acldefault('T', t.typowner)
                  WHEN n.oid IS NOT NULL THEN acldefault('n', n.nspowner) END AS default_acl
      FROM pg_depend d
      JOIN pg_extension x ON x.oid = d.refobjid
      LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
      LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
      LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
      LEFT JOIN pg_namespace n ON d.classid = 'pg_namespace'::regclass AND n.oid = d.objid
      LEFT JOIN pg_init_privs ip
             ON ip.classoid = d.classid AND ip.objoid = d.objid AND ip.objsubid = 0
      WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass) m
CROSS JOIN LATERAL pg_identify_object(m.classid, m.objid, 0) io
CROSS JOIN LATERAL (SELECT array_agg(a::text ORDER BY a::text) AS items
                    FROM unnest(coalesce(m.acl, m.default_acl)) a) now_acl
CROSS JOIN LATERAL (SELECT array_agg(a::text ORDER BY a::text) AS items
                    FROM unnest(coalesce(m.initprivs, m.default_acl)) a) init_acl";

/// `public` is included like any other schema: its comment and privileges are schema too.
/// Its owner from PostgreSQL 15 on, `pg_database_owner`, is the database's owner: the
/// user who made the scratch database, so it counts as that user.
pub(super) const SCHEMAS: &str = concat!(
    "
SELECT quote_ident(n.nspname) AS sql_name,
       ds.description AS comment,
       ",
    acl!("n.nspacl", "'n'", "n.nspowner"),
    " AS acl,
       ",
    owner!(
        "CASE WHEN n.nspname = 'public' AND pg_get_userbyid(n.nspowner) = 'pg_database_owner'
              THEN current_user::text::regrole::oid ELSE n.nspowner END"
    ),
    "
FROM pg_namespace n",
    comment_join!("n.oid", "pg_namespace"),
    "
WHERE ",
    user_namespace!("n"),
    " AND ",
    not_extension_member!("pg_namespace", "n.oid")
);

/// Ordinary, partitioned and foreign tables, a foreign table with its server and FDW
/// options (looked up for foreign tables only). Toast tables are left out by `relkind`, and
/// their storage parameters (`toast.*`) are the table's `toast_options`. The index a table
/// is clustered on, and the one its replica identity uses, are kept here, as
/// constraint-backed indexes are not objects. The access method is shown where it is not
/// `heap`. Parents (a partition's one, or the tables a table inherits from), clustered and
/// replica identity indexes and toast tables with parameters are few: each is read once
/// and joined (`OFFSET 0` keeps the planner from turning the
/// join back into a lookup per table, which cost more than the rest of the query).
pub(super) const TABLES: &str = concat!(
    "
SELECT ",
    object_name!("n", "c.relname"),
    ", ",
    display_name!("n.nspname", "c.relname"),
    " AS \"table\",
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'f' THEN 'foreign table' END AS kind,
       CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 'u' THEN 'unlogged'
                             ELSE 'temporary' END AS persistence,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN inh.parents END AS partition_of,
       pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
       CASE WHEN NOT c.relispartition THEN inh.parents END AS inherits,
       CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END AS of_type,
       CASE WHEN c.relkind = 'f' THEN (
            SELECT quote_ident(fs.srvname) FROM pg_foreign_table ft
            JOIN pg_foreign_server fs ON fs.oid = ft.ftserver WHERE ft.ftrelid = c.oid) END AS server,
       CASE WHEN c.relkind = 'f' THEN (
            SELECT ",
    options!("ft.ftoptions"),
    " FROM pg_foreign_table ft WHERE ft.ftrelid = c.oid) END AS fdw_options,
       c.relrowsecurity::text AS row_security,
       c.relforcerowsecurity::text AS force_row_security,
       CASE c.relreplident WHEN 'd' THEN 'default' WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full'
                           WHEN 'i' THEN 'index ' || quote_ident(ri.relname) END AS replica_identity,
       quote_ident(cl.relname) AS clustered_on,
       CASE WHEN tam.amname <> 'heap' THEN quote_ident(tam.amname) END AS access_method,
       ",
    tablespace!("c.reltablespace"),
    ",
       ",
    options!("c.reloptions"),
    " AS options,
       ",
    options!("toast.reloptions"),
    " AS toast_options,
       ds.description AS comment,
       ",
    acl!("c.relacl", "'r'", "c.relowner"),
    " AS acl,
       ",
    owner!("c.relowner"),
    "
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN (SELECT i.inhrelid, string_agg(",
    display_name!("pn.nspname", "p.relname"),
    ", ', ' ORDER BY i.inhseqno) AS parents
           FROM pg_inherits i
           JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace pn ON pn.oid = p.relnamespace
           GROUP BY i.inhrelid OFFSET 0) inh ON inh.inhrelid = c.oid
LEFT JOIN (SELECT x.indrelid, ci.relname::text AS relname
           FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid
           WHERE x.indisclustered OFFSET 0) cl ON cl.indrelid = c.oid
LEFT JOIN (SELECT x.indrelid, ci.relname::text AS relname
           FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid
           WHERE x.indisreplident OFFSET 0) ri ON ri.indrelid = c.oid
LEFT JOIN (SELECT t.oid, t.reloptions FROM pg_class t
           WHERE t.relkind = 't' AND t.reloptions IS NOT NULL OFFSET 0) toast
       ON toast.oid = c.reltoastrelid
LEFT JOIN pg_am tam ON tam.oid = c.relam",
    comment_join!("c.oid", "pg_class"),
    "
WHERE c.relkind IN ('r', 'p', 'f') AND ",
    user_relation!("c", "n")
);

/// Live columns of tables, views and materialized views (view columns carry comments,
/// defaults and privileges of their own). `position` is the raw `attnum`, from which the
/// caller records each table's column order without it becoming a property (sorting the
/// rows here instead copied every row's text once more). Columns are looked up table by
/// table through `pg_attribute`'s index (`OFFSET 0` keeps the lateral subquery from being
/// flattened into a join): a hash join read all of `pg_attribute`, system catalogs and
/// indexes included. Defaults are joined by hash (`OFFSET 0` again): the planner otherwise
/// looked each column up in `pg_attrdef`'s index. Collation, storage and compression are
/// shown only where they differ from the type's. A generated column's expression is
/// `generated`, and `generated_kind` says `virtual` for PostgreSQL 18's virtual ones (its
/// default; stored ones were the only kind before). `not_null_constraint` is the name of
/// the NOT NULL constraint that PostgreSQL 18 keeps for a NOT NULL column, with its
/// `NO INHERIT` and `NOT VALID`; older servers keep none, so the property is absent.
/// `inheritance` says whether a column that a parent gives is also defined locally, which
/// decides whether it stays when the parent's column is dropped; a partition's columns
/// are left alone, as they cannot differ while it is one.
pub(super) const COLUMNS: &str = concat!(
    "
SELECT ",
    member_name!("n", "c.relname", "a.attname"),
    ", ",
    display_name!("n.nspname", "c.relname"),
    " AS \"table\",
       format_type(a.atttypid, a.atttypmod) AS type,
       (NOT a.attnotnull)::text AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS \"default\",
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
       CASE a.attgenerated WHEN 'v' THEN 'virtual' END AS generated_kind,
       CASE WHEN a.attcollation <> t.typcollation
            THEN a.attcollation::regcollation::text END AS collation,
       CASE WHEN a.attstorage <> t.typstorage THEN
            CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                              WHEN 'm' THEN 'main' WHEN 'x' THEN 'extended' END END AS storage,
       CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS compression,
       ",
    options!("a.attfdwoptions"),
    " AS fdw_options,
       NULLIF(a.attstattarget, -1)::text AS statistics,
       CASE WHEN a.attinhcount > 0 AND NOT c.relispartition THEN
            CASE WHEN a.attislocal THEN 'local and inherited' ELSE 'inherited' END
       END AS inheritance,
       ",
    options!("a.attoptions"),
    " AS options,
       ds.description AS comment,
       ",
    acl!("a.attacl", "'c'", "c.relowner"),
    " AS acl,
       nn.conname || CASE WHEN nn.connoinherit THEN ' NO INHERIT' ELSE '' END
       || CASE WHEN NOT nn.convalidated THEN ' NOT VALID' ELSE '' END AS not_null_constraint,
       a.attnum AS position
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT * FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    OFFSET 0) a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN (SELECT adrelid, adnum, adbin FROM pg_attrdef OFFSET 0) d
       ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN (SELECT conrelid, conkey[1] AS attnum, conname::text, connoinherit, convalidated
           FROM pg_constraint WHERE contype = 'n' OFFSET 0) nn
       ON nn.conrelid = a.attrelid AND nn.attnum = a.attnum",
    comment_join!("c.oid", "pg_class", "a.attnum"),
    "
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND ",
    user_relation!("c", "n")
);

/// A constraint's definition exactly as `pg_get_constraintdef` prints it, for the common
/// constraint that it can spell, else NULL. `pg_get_constraintdef` fetches the constraint
/// by a catalog scan and each column name and the index through caches that are cold
/// during introspection, which spelling avoids (see the benchmark notes in the README).
/// Spelled: a primary key or unique constraint (`k`) of
/// one column whose index has no INCLUDE columns, and a CHECK constraint, whose expression
/// `pg_get_expr` prints as `pg_get_constraintdef` does (from PostgreSQL 18 on, a NOT
/// ENFORCED one says so in place of NOT VALID). A test holds the two spellings equal.
macro_rules! spelled_constraint_definition {
    () => {
        "CASE WHEN k.contype = 'c' THEN
           'CHECK (' || pg_get_expr(k.conbin, k.conrelid) || ')'
           || CASE WHEN k.connoinherit THEN ' NO INHERIT' ELSE '' END
           || CASE WHEN k.condeferrable THEN ' DEFERRABLE' ELSE '' END
           || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
           || CASE WHEN NOT {{k.conenforced}} THEN ' NOT ENFORCED'
                   WHEN NOT k.convalidated THEN ' NOT VALID' ELSE '' END
         WHEN k.contype IN ('p', 'u') AND cardinality(k.conkey) = 1 THEN (
           SELECT CASE WHEN k.contype = 'p' THEN 'PRIMARY KEY'
                       WHEN {{x.indnullsnotdistinct}} THEN 'UNIQUE NULLS NOT DISTINCT'
                       ELSE 'UNIQUE' END
                  || ' (' || quote_ident(a.attname) || ')'
                  || CASE WHEN k.condeferrable THEN ' DEFERRABLE' ELSE '' END
                  || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
                  || CASE WHEN NOT k.convalidated THEN ' NOT VALID' ELSE '' END
           FROM pg_index x
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
           WHERE x.indexrelid = k.conindid AND x.indnatts = 1) END"
    };
}

/// Table constraints of every kind, and domain constraints (named `domain.constraint`,
/// with no table). NOT NULL is the column's property (`nullable`), and from PostgreSQL 18
/// on its constraint's name and flags are too (`not_null_constraint`, see [`COLUMNS`]), so
/// that a column made NOT NULL is one difference, not two. `enforced` is there only for a
/// NOT ENFORCED constraint (18).
/// Definitions are spelled here where that is exact, else printed by
/// `pg_get_constraintdef` (see [`spelled_constraint_definition`]). The printed definition
/// of a primary key or unique constraint leaves out the storage parameters of the index
/// behind it (an exclusion constraint's holds them), and those indexes are not index
/// objects, so the parameters are `options`. The internal triggers that enforce a foreign
/// key or a deferrable key (`ALTER TABLE ... DISABLE TRIGGER ALL` reaches them) are not
/// objects either: those not enabled are `internal_triggers` (`order_line: disabled`).
/// `inheritance`, as for columns, says whether an inherited constraint is also defined
/// locally (it then stays when the parent's is dropped).
pub(super) const CONSTRAINTS: &str = concat!(
    "
SELECT quote_ident(coalesce(n.nspname, tn.nspname)) AS sql_schema,
       quote_ident(coalesce(c.relname, t.typname)) AS sql_name,
       quote_ident(k.conname) AS sql_member,
       CASE WHEN k.conrelid <> 0 THEN ",
    display_name!("n.nspname", "c.relname"),
    " END AS \"table\",
       CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
                      WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclusion'
                      WHEN 't' THEN 'trigger' END AS type,
       coalesce(",
    spelled_constraint_definition!(),
    ", pg_get_constraintdef(k.oid)) AS definition,
       CASE WHEN k.contype IN ('p', 'u') THEN (SELECT ",
    options!("ci.reloptions"),
    " FROM pg_class ci WHERE ci.oid = k.conindid) END AS options,
       k.condeferrable::text AS deferrable,
       k.condeferred::text AS deferred,
       k.convalidated::text AS validated,
       it.states AS internal_triggers,
       CASE WHEN k.coninhcount > 0 AND NOT c.relispartition THEN
            CASE WHEN k.conislocal THEN 'local and inherited' ELSE 'inherited' END
       END AS inheritance,
       CASE WHEN NOT {{k.conenforced}} THEN 'false' END AS enforced,
       ds.description AS comment
FROM pg_constraint k
LEFT JOIN (SELECT s.tgconstraint, string_agg(s.state, ', ' ORDER BY s.state) AS states
           FROM (SELECT DISTINCT tg.tgconstraint, ",
    display_name!("tn.nspname", "tc.relname"),
    " || ': ' || CASE tg.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
                                               WHEN 'A' THEN 'always' END AS state
                 FROM pg_trigger tg
                 JOIN pg_class tc ON tc.oid = tg.tgrelid
                 JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                 WHERE tg.tgisinternal AND tg.tgconstraint <> 0 AND tg.tgenabled <> 'O') s
           GROUP BY s.tgconstraint OFFSET 0) it ON it.tgconstraint = k.oid
LEFT JOIN pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_type t ON t.oid = k.contypid
LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace",
    comment_join!("k.oid", "pg_constraint"),
    "
WHERE k.contype <> 'n' AND ((c.oid IS NOT NULL AND ",
    user_relation!("c", "n"),
    ")
   OR (t.oid IS NOT NULL AND ",
    user_namespace!("tn"),
    " AND ",
    not_extension_member!("pg_type", "t.oid"),
    "))"
);

/// Every constraint of the database, the system catalogs' too, with its namespace, its
/// definition as [`spelled_constraint_definition`] spells it (NULL where it does not) and
/// as `pg_get_constraintdef` prints it.
#[cfg(test)]
pub(super) const SPELLED_AND_PRINTED_CONSTRAINTS: &str = concat!(
    "SELECT k.conname::text, n.nspname::text, ",
    spelled_constraint_definition!(),
    ", pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_namespace n ON n.oid = k.connamespace"
);

/// The relations an index query reads: the index `i` (`pg_index` row `x`) of the table `c`
/// in the namespace `n`, with its access method `am`, and the operator class `opc` (in the
/// namespace `opn`) of its first column.
macro_rules! index_source {
    () => {
        "
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_opclass opc ON opc.oid = x.indclass[0]
LEFT JOIN pg_namespace opn ON opn.oid = opc.opcnamespace"
    };
}

/// An index's definition exactly as `pg_get_indexdef` prints it, for the common index
/// that it can spell, else NULL. `pg_get_indexdef` decides whether to print each key
/// column's operator class by scanning all of the access method's operator classes for
/// the type's default (`GetDefaultOpClass`): at 1,000 tables that was an eighth of the
/// introspection's server work. Spelled here: an index of one key, either a plain column
/// or a plain function call such as `lower(email)`, whose operator class is either the
/// exact default for the key's type (not a domain), so not printed, or no default at all,
/// so printed; that is not unique or partitioned and has no storage parameters or operator
/// class options; of a built-in access method (only btree orders, so only btree prints
/// DESC and NULLS); partial or not. Anything else is left to `pg_get_indexdef`. A test
/// holds the two spellings equal.
///
/// A function call's type and collation, which decide whether the operator class and
/// collation are printed, are read from the stored expression: the first fields of its
/// `pg_node_tree` text, `({FUNCEXPR :funcid 870 :funcresulttype 25 ... :funcformat 0
/// :funccollid 100 ...`, which come in a fixed order and fit in its first 200 characters
/// (where they ever do not, the labels do not match and the index is left to
/// `pg_get_indexdef`; a regular expression would cost far more). Only
/// calls written as calls (`funcformat` 0) are spelled: `pg_get_indexdef` parenthesizes
/// other expressions by rules of its own, and those of calls with SQL syntax (`EXTRACT`,
/// `AT TIME ZONE`) differ between releases. The predicate is stored as one expression,
/// which `pg_get_expr` prints as `pg_get_indexdef` does.
macro_rules! spelled_index_definition {
    () => {
        "CASE WHEN x.indnatts = 1 AND i.reloptions IS NULL AND i.relkind = 'i'
                AND NOT x.indisunique
                AND am.amname IN ('btree', 'hash', 'gist', 'gin', 'spgist', 'brin') THEN (
           SELECT 'CREATE INDEX ' || quote_ident(i.relname) || ' ON ' || quote_ident(n.nspname)
                  || '.' || quote_ident(c.relname) || ' USING ' || quote_ident(am.amname) || ' ('
                  || k.key
                  || CASE WHEN x.indcollation[0] <> 0 AND x.indcollation[0] <> k.collation
                          THEN ' COLLATE ' || x.indcollation[0]::regcollation::text ELSE '' END
                  || CASE WHEN opc.opcdefault THEN ''
                          WHEN pg_opclass_is_visible(opc.oid) THEN ' ' || quote_ident(opc.opcname)
                          ELSE ' ' || quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname)
                     END
                  || CASE WHEN am.amname <> 'btree' THEN ''
                          WHEN x.indoption[0] & 1 <> 0
                          THEN ' DESC' || CASE WHEN x.indoption[0] & 2 = 0
                                               THEN ' NULLS LAST' ELSE '' END
                          WHEN x.indoption[0] & 2 <> 0 THEN ' NULLS FIRST' ELSE '' END
                  || ')'
                  || CASE WHEN x.indpred IS NULL THEN ''
                          ELSE ' WHERE ' || pg_get_expr(x.indpred, x.indrelid) END
           FROM (SELECT quote_ident(a.attname) AS key, a.atttypid AS type,
                        a.attcollation AS collation
                 FROM pg_attribute a
                 WHERE x.indkey[0] <> 0 AND a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
                 UNION ALL
                 SELECT pg_get_expr(x.indexprs, x.indrelid), f[5]::oid, f[13]::oid
                 FROM string_to_array(left(x.indexprs::text, 200), ' ') f
                 WHERE x.indkey[0] = 0 AND f[1] = '({FUNCEXPR' AND f[4] = ':funcresulttype'
                   AND f[10] = ':funcformat' AND f[11] = '0' AND f[12] = ':funccollid') k
           JOIN pg_type kt ON kt.oid = k.type
           JOIN pg_attribute ia ON ia.attrelid = x.indexrelid AND ia.attnum = 1
           WHERE kt.typtype <> 'd' AND ia.attoptions IS NULL
             AND (NOT opc.opcdefault OR opc.opcintype = k.type)) END"
    };
}

/// Indexes, except those that back a primary key, unique or exclusion constraint: the
/// constraint's definition and options already hold their columns, INCLUDE list, storage
/// parameters and method, and reporting them twice would only double every difference.
/// Lost with them: a comment on such an index (whether a table is clustered on one is
/// kept on the table). `statistics` holds the statistics targets set on expression columns
/// (`ALTER INDEX ... ALTER COLUMN 2 SET STATISTICS 500`: column number and target), the
/// only columns that can have one, so only expression indexes are looked at. Definitions are spelled here where that is exact, else printed by
/// `pg_get_indexdef` (see [`spelled_index_definition`]).
pub(super) const INDEXES: &str = concat!(
    "
SELECT ",
    object_name!("n", "i.relname"),
    ", ",
    display_name!("n.nspname", "c.relname"),
    " AS \"table\",
       coalesce(",
    spelled_index_definition!(),
    ", pg_get_indexdef(i.oid)) AS definition,
       x.indisvalid::text AS valid,
       CASE WHEN x.indexprs IS NOT NULL THEN (
           SELECT string_agg(a.attnum || ' ' || a.attstattarget, ', ' ORDER BY a.attnum)
           FROM pg_attribute a WHERE a.attrelid = i.oid AND a.attstattarget >= 0) END
         AS statistics,
       ",
    tablespace!("i.reltablespace"),
    ",
       ds.description AS comment",
    index_source!(),
    comment_join!("i.oid", "pg_class"),
    "
WHERE ",
    user_relation!("c", "n"),
    "
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                    AND k.contype IN ('p', 'u', 'x'))"
);

/// Every index of the database, the system catalogs' too, with its namespace, its definition
/// as [`spelled_index_definition`] spells it (NULL where it does not) and as
/// `pg_get_indexdef` prints it.
#[cfg(test)]
pub(super) const SPELLED_AND_PRINTED_INDEXES: &str = concat!(
    "SELECT i.relname::text, n.nspname::text, ",
    spelled_index_definition!(),
    ", pg_get_indexdef(i.oid)",
    index_source!()
);

/// Every parameter but the position. `owned_by` comes from the automatic dependency of a
/// serial or `OWNED BY` sequence ('a') or the internal one of an identity sequence ('i');
/// such a sequence is grouped with its table, whose owner it always has (so its `owner` is
/// left out). The owning column is looked up sequence by sequence (`OFFSET 0` keeps the
/// lateral subquery apart): joined directly, the server resolved the owner of every
/// automatic dependency on a column in the database, indexes and constraints included,
/// before keeping the sequences'.
pub(super) const SEQUENCES: &str = concat!(
    "
SELECT ",
    object_name!("n", "c.relname"),
    ", ",
    display_name!("own.nspname", "own.relname"),
    " AS \"table\",
       format_type(s.seqtypid, NULL) AS type,
       s.seqstart::text AS start,
       s.seqincrement::text AS increment,
       s.seqmin::text AS minvalue,
       s.seqmax::text AS maxvalue,
       s.seqcache::text AS cache,
       s.seqcycle::text AS cycle,
       CASE WHEN c.relpersistence = 'u' THEN 'unlogged' END AS persistence,
       ",
    display_name!("own.nspname", "own.relname"),
    " || '.' || quote_ident(own.attname) AS owned_by,
       ds.description AS comment,
       ",
    acl!("c.relacl", "'s'", "c.relowner"),
    " AS acl,
       ",
    owner!("CASE WHEN own.relname IS NULL THEN c.relowner END"),
    "
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT own_n.nspname, own_c.relname, own_a.attname
    FROM pg_depend d
    JOIN pg_class own_c ON own_c.oid = d.refobjid
    JOIN pg_namespace own_n ON own_n.oid = own_c.relnamespace
    JOIN pg_attribute own_a ON own_a.attrelid = d.refobjid AND own_a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    OFFSET 0) own ON true",
    comment_join!("c.oid", "pg_class"),
    "
WHERE ",
    user_relation!("c", "n")
);

/// Enum labels in their sort order, which is what the type means.
pub(super) const ENUMS: &str = concat!(
    "
SELECT ",
    object_name!("n", "t.typname"),
    ",
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
        WHERE e.enumtypid = t.oid)::text AS labels,
       ds.description AS comment,
       ",
    acl!("t.typacl", "'T'", "t.typowner"),
    " AS acl,
       ",
    owner!("t.typowner"),
    "
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace",
    comment_join!("t.oid", "pg_type"),
    "
WHERE t.typtype = 'e' AND ",
    user_namespace!("n"),
    " AND ",
    not_extension_member!("pg_type", "t.oid")
);

/// Domains; their CHECK constraints are constraint objects (see [`CONSTRAINTS`]).
pub(super) const DOMAINS: &str = concat!(
    "
SELECT ",
    object_name!("n", "t.typname"),
    ",
       format_type(t.typbasetype, t.typtypmod) AS type,
       pg_get_expr(t.typdefaultbin, 0) AS \"default\",
       (NOT t.typnotnull)::text AS nullable,
       CASE WHEN t.typcollation <> b.typcollation
            THEN t.typcollation::regcollation::text END AS collation,
       ds.description AS comment,
       ",
    acl!("t.typacl", "'T'", "t.typowner"),
    " AS acl,
       ",
    owner!("t.typowner"),
    "
FROM pg_type t
JOIN pg_type b ON b.oid = t.typbasetype
JOIN pg_namespace n ON n.oid = t.typnamespace",
    comment_join!("t.oid", "pg_type"),
    "
WHERE t.typtype = 'd' AND ",
    user_namespace!("n"),
    " AND ",
    not_extension_member!("pg_type", "t.oid")
);

/// Stand-alone composite types (`relkind = 'c'`), not the row types every table has.
/// Attributes keep their order, which is part of the type; their comments
/// (`COMMENT ON COLUMN type.attribute`) are `attribute_comments`.
pub(super) const COMPOSITE_TYPES: &str = concat!(
    "
SELECT ",
    object_name!("n", "t.typname"),
    ",
       (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                          || CASE WHEN a.attcollation <> at.typcollation
                                  THEN ' COLLATE ' || a.attcollation::regcollation::text
                                  ELSE '' END,
                          ', ' ORDER BY a.attnum)
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
       (SELECT string_agg(quote_ident(a.attname) || ' ' || quote_literal(d.description),
                          ', ' ORDER BY a.attnum)
        FROM pg_attribute a
        JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass
                             AND d.objsubid = a.attnum
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
         AS attribute_comments,
       ds.description AS comment,
       ",
    acl!("t.typacl", "'T'", "t.typowner"),
    " AS acl,
       ",
    owner!("t.typowner"),
    "
FROM pg_type t
JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
JOIN pg_namespace n ON n.oid = t.typnamespace",
    comment_join!("t.oid", "pg_type"),
    "
WHERE t.typtype = 'c' AND ",
    user_namespace!("n"),
    " AND ",
    not_extension_member!("pg_type", "t.oid")
);

/// Functions, procedures, window functions and aggregates, named by their argument types
/// (argument names are not part of a function's identity; they are in the definition).
/// `pg_get_functiondef` prints everything that makes a function: body, language,
/// volatility, strictness, security, SET options, cost and rows. It refuses aggregates,
/// whose definition is spelled from `pg_aggregate` instead: every option of `CREATE
/// AGGREGATE`, those left at their defaults left out, and argument names where given.
pub(super) const FUNCTIONS: &str = concat!(
    "
SELECT ",
    object_name!("n", "p.proname"),
    ",
       '(' || oidvectortypes(p.proargtypes) || ')' AS sql_arguments,
       CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure'
                      WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' END AS kind,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) ELSE concat_ws(', ',
            'RETURNS ' || pg_get_function_result(p.oid),
            'SFUNC = ' || g.aggtransfn::regprocedure::text,
            'STYPE = ' || format_type(g.aggtranstype, NULL),
            CASE WHEN g.aggfinalfn <> 0 THEN 'FINALFUNC = ' || g.aggfinalfn::regprocedure::text END,
            CASE WHEN g.aggcombinefn <> 0
                 THEN 'COMBINEFUNC = ' || g.aggcombinefn::regprocedure::text END,
            'INITCOND = ' || quote_literal(g.agginitval),
            CASE WHEN g.aggsortop <> 0 THEN 'SORTOP = ' || g.aggsortop::regoperator::text END,
            CASE g.aggkind WHEN 'o' THEN 'ORDERED SET' WHEN 'h' THEN 'HYPOTHETICAL' END,
            CASE WHEN p.proargnames IS NOT NULL
                 THEN 'ARGUMENTS (' || pg_get_function_arguments(p.oid) || ')' END,
            CASE WHEN p.proparallel = 's' THEN 'PARALLEL = SAFE'
                 WHEN p.proparallel = 'r' THEN 'PARALLEL = RESTRICTED' END,
            CASE WHEN g.aggtransspace <> 0 THEN 'SSPACE = ' || g.aggtransspace END,
            CASE WHEN g.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
            CASE WHEN g.aggfinalfn <> 0
                  AND g.aggfinalmodify <> CASE g.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
                 THEN 'FINALFUNC_MODIFY = ' || CASE g.aggfinalmodify WHEN 'r' THEN 'READ_ONLY'
                      WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
            CASE WHEN g.aggserialfn <> 0
                 THEN 'SERIALFUNC = ' || g.aggserialfn::regprocedure::text END,
            CASE WHEN g.aggdeserialfn <> 0
                 THEN 'DESERIALFUNC = ' || g.aggdeserialfn::regprocedure::text END,
            CASE WHEN g.aggmtransfn <> 0
                 THEN 'MSFUNC = ' || g.aggmtransfn::regprocedure::text END,
            CASE WHEN g.aggminvtransfn <> 0
                 THEN 'MINVFUNC = ' || g.aggminvtransfn::regprocedure::text END,
            CASE WHEN g.aggmtranstype <> 0
                 THEN 'MSTYPE = ' || format_type(g.aggmtranstype, NULL) END,
            CASE WHEN g.aggmtransspace <> 0 THEN 'MSSPACE = ' || g.aggmtransspace END,
            CASE WHEN g.aggmfinalfn <> 0
                 THEN 'MFINALFUNC = ' || g.aggmfinalfn::regprocedure::text END,
            CASE WHEN g.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
            CASE WHEN g.aggmfinalfn <> 0
                  AND g.aggmfinalmodify <> CASE g.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
                 THEN 'MFINALFUNC_MODIFY = ' || CASE g.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY'
                      WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
            'MINITCOND = ' || quote_literal(g.aggminitval))
       END AS definition,
       ds.description AS comment,
       ",
    acl!("p.proacl", "'f'", "p.proowner"),
    " AS acl,
       ",
    owner!("p.proowner"),
    "
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_aggregate g ON g.aggfnoid = p.oid",
    comment_join!("p.oid", "pg_proc"),
    "
WHERE ",
    user_namespace!("n"),
    " AND ",
    not_extension_member!("pg_proc", "p.oid")
);

/// User triggers; internal ones (those behind foreign keys) have OIDs in their names and
/// are covered by their constraint.
pub(super) const TRIGGERS: &str = concat!(
    "
SELECT ",
    member_name!("n", "c.relname", "tg.tgname"),
    ", ",
    display_name!("n.nspname", "c.relname"),
    " AS \"table\",
       pg_get_triggerdef(tg.oid) AS definition,
       CASE tg.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                         WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled,
       ds.description AS comment
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace",
    comment_join!("tg.oid", "pg_trigger"),
    "
WHERE NOT tg.tgisinternal AND ",
    user_relation!("c", "n")
);

/// Views (`$relkind` 'v') or materialized views ('m'); their columns are column objects
/// and the indexes of materialized views are index objects. A materialized view, like a
/// table, can be clustered on one of them and stored in a tablespace.
macro_rules! views {
    ($relkind:literal) => {
        concat!(
            "
SELECT ",
            object_name!("n", "c.relname"),
            ", ",
            display_name!("n.nspname", "c.relname"),
            " AS \"table\",
       pg_get_viewdef(c.oid, true) AS definition,
       CASE WHEN c.relkind = 'm' THEN c.relispopulated::text END AS populated,
       quote_ident(cl.relname) AS clustered_on,
       ",
            tablespace!("c.reltablespace"),
            ",
       ",
            options!("c.reloptions"),
            " AS options,
       ds.description AS comment,
       ",
            acl!("c.relacl", "'r'", "c.relowner"),
            " AS acl,
       ",
            owner!("c.relowner"),
            "
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN (SELECT x.indrelid, ci.relname::text AS relname
           FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid
           WHERE x.indisclustered OFFSET 0) cl ON cl.indrelid = c.oid",
            comment_join!("c.oid", "pg_class"),
            "
WHERE c.relkind = '",
            $relkind,
            "' AND ",
            user_relation!("c", "n")
        )
    };
}

pub(super) const VIEWS: &str = views!("v");

pub(super) const MATERIALIZED_VIEWS: &str = views!("m");

/// Row-level security policies; roles sorted, as their order means nothing.
pub(super) const POLICIES: &str = concat!(
    "
SELECT ",
    member_name!("n", "c.relname", "p.polname"),
    ", ",
    display_name!("n.nspname", "c.relname"),
    " AS \"table\",
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' WHEN '*' THEN 'ALL' END AS command,
       CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END AS type,
       (SELECT array_agg(r.name ORDER BY r.name)::text
        FROM (SELECT CASE WHEN oid = 0 THEN 'public' ELSE pg_get_userbyid(oid)::text END AS name
              FROM unnest(p.polroles) oid) r) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS \"using\",
       pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       ds.description AS comment
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace",
    comment_join!("p.oid", "pg_policy"),
    "
WHERE ",
    user_relation!("c", "n")
);
