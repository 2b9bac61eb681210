//! What each kind of pack file holds, field for column (packs/README.md has the mapping).
//!
//! Optional fields are `Option`: a field left out leaves its column to the database's
//! default, so the loader must be able to tell "not given" from any value. Refs and the
//! fields that name other objects keep their place in the file, for error messages.

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

/// `pack.yaml`: one row of `pack`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    #[serde(rename = "ref")]
    pub reference: Spanned<String>,
    pub label: String,
    pub description: Option<String>,
    pub version: Spanned<String>,
    pub conf_schema: Option<Value>,
    pub config: Option<Value>,
    pub meta: Option<Value>,
    pub tags: Option<Vec<String>>,
    pub runtime_deps: Option<Vec<String>>,
    pub installers: Option<Value>,
    pub is_standard: Option<bool>,
}

/// `runtimes/<name>.yaml`: one row of `runtime`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    #[serde(rename = "ref")]
    pub reference: Spanned<String>,
    pub name: String,
    pub description: Option<String>,
    pub distributions: Option<Value>,
    pub installation: Option<Value>,
}

/// `triggers/<name>.yaml`: one row of `trigger`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(rename = "ref")]
    pub reference: Spanned<String>,
    pub label: String,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub param_schema: Option<Value>,
    pub out_schema: Option<Value>,
    pub webhook_enabled: Option<bool>,
    pub webhook_config: Option<Value>,
}

/// `actions/<name>.yaml`: one row of `action`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(rename = "ref")]
    pub reference: Spanned<String>,
    pub label: String,
    pub description: Option<String>,
    /// A runtime ref, resolved to `runtime.id`.
    pub runtime: Option<Spanned<String>>,
    pub entrypoint: Spanned<String>,
    pub param_schema: Option<Value>,
    pub out_schema: Option<Value>,
    pub timeout_seconds: Option<Spanned<i32>>,
    pub enabled: Option<bool>,
}

/// `sensors/<name>.yaml`: one row of `sensor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensor {
    #[serde(rename = "ref")]
    pub reference: Spanned<String>,
    pub label: String,
    pub description: String,
    /// A runtime ref: its id goes to `runtime`, the ref itself to `runtime_ref`.
    pub runtime: Spanned<String>,
    /// A trigger ref: its id goes to `trigger`, the ref itself to `trigger_ref`.
    pub trigger: Spanned<String>,
    pub entrypoint: Spanned<String>,
    pub enabled: Option<bool>,
    pub param_schema: Option<Value>,
    pub config: Option<Value>,
    pub poll_interval_seconds: Option<Spanned<i32>>,
}

/// What the checks and the loader need to know of every kind of object a pack defines.
pub trait Definition {
    /// The table the object goes into, which is also how messages name the kind.
    const TABLE: &'static str;
    /// The pack's subdirectory holding one file per object.
    const DIRECTORY: &'static str;

    fn reference(&self) -> &Spanned<String>;
}

impl Definition for Runtime {
    const TABLE: &'static str = "runtime";
    const DIRECTORY: &'static str = "runtimes";

    fn reference(&self) -> &Spanned<String> {
        &self.reference
    }
}

impl Definition for Trigger {
    const TABLE: &'static str = "trigger";
    const DIRECTORY: &'static str = "triggers";

    fn reference(&self) -> &Spanned<String> {
        &self.reference
    }
}

impl Definition for Action {
    const TABLE: &'static str = "action";
    const DIRECTORY: &'static str = "actions";

    fn reference(&self) -> &Spanned<String> {
        &self.reference
    }
}

impl Definition for Sensor {
    const TABLE: &'static str = "sensor";
    const DIRECTORY: &'static str = "sensors";

    fn reference(&self) -> &Spanned<String> {
        &self.reference
    }
}
