//! Reading a pack directory and checking it as a whole: every file parsed, every problem
//! collected (parse errors, bad refs, duplicates, dangling references, missing scripts)
//! before anything is reported, so that one run shows all that needs fixing.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde_saphyr::{MessageFormatter, Spanned};

use super::model::Definition;
use super::{
    display_location, position, Action, Pack, PackFile, PackManifest, PackProblems, Problem,
    Runtime, Sensor, Trigger,
};

/// The file every pack has, at the top of its directory.
const MANIFEST: &str = "pack.yaml";

/// An action of this runtime names a built-in of the worker as its entrypoint, not a file.
const BUILTIN_ACTION_RUNTIME: &str = "core.native";
/// A sensor of this runtime names a built-in of the sensor service, not a file.
const BUILTIN_SENSOR_RUNTIME: &str = "core.sensor_builtin";

impl Pack {
    /// A digest of every file of the pack, scripts included, as a manifest digests a
    /// directory: what a lock record keeps to say which pack its data fingerprints are of.
    pub fn digest(&self) -> anyhow::Result<String> {
        Ok(crate::tree::Manifest::of_dir(&self.dir)?.digest())
    }

    /// Reads `pack.yaml` and every `*.yaml` directly inside `runtimes/`, `triggers/`,
    /// `actions/` and `sensors/` (in file name order; a missing subdirectory defines
    /// nothing). Other files, such as scripts, are left alone, except `*.yml`: the loader
    /// would not read it, so it is reported rather than silently skipped.
    ///
    /// All problems are returned together as one [`PackProblems`] error.
    pub fn read(dir: &Path) -> anyhow::Result<Pack> {
        anyhow::ensure!(
            dir.is_dir(),
            "pack directory {} does not exist; name the directory holding {MANIFEST}",
            dir.display()
        );
        let mut problems = Vec::new();
        let manifest = read_file::<PackManifest>(dir, Path::new(MANIFEST), &mut problems);
        let runtimes = read_directory::<Runtime>(dir, &mut problems)?;
        let triggers = read_directory::<Trigger>(dir, &mut problems)?;
        let actions = read_directory::<Action>(dir, &mut problems)?;
        let sensors = read_directory::<Sensor>(dir, &mut problems)?;

        let mut pack = PackCheck {
            dir,
            // A pack ref that is wrong itself is reported once, not on every object.
            pack_ref: manifest
                .as_ref()
                .map(|manifest| manifest.definition.reference.value.as_str())
                .filter(|pack_ref| is_pack_ref(pack_ref)),
            problems,
        };
        if let Some(manifest) = &manifest {
            pack.check_manifest(manifest);
        }
        let runtime_refs = pack.check_refs(&runtimes);
        let trigger_refs = pack.check_refs(&triggers);
        pack.check_refs(&actions);
        pack.check_refs(&sensors);
        for action in &actions.files {
            pack.check_action(action, &runtime_refs);
        }
        for sensor in &sensors.files {
            pack.check_sensor(sensor, &runtime_refs, &trigger_refs);
        }

        let mut problems = pack.problems;
        // All the problems of a file together, top to bottom.
        problems.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
        match manifest {
            Some(manifest) if problems.is_empty() => Ok(Pack {
                dir: dir.to_owned(),
                manifest,
                runtimes: runtimes.files,
                triggers: triggers.files,
                actions: actions.files,
                sensors: sensors.files,
            }),
            _ => Err(PackProblems {
                dir: dir.to_owned(),
                problems,
            }
            .into()),
        }
    }
}

/// The parsing rules of packs/README.md: plain YAML, one document, no anchors, aliases,
/// tags or merge keys; `true`/`false` only, so that `yes` or `on` stays a string.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        merge_keys: serde_saphyr::MergeKeyPolicy::Error,
        reject_unsupported_tags: true,
        reject_tagged_field_names: true,
        alias_limits: serde_saphyr::alias_limits! { max_alias_expansions_per_anchor: 0 },
    }
}

/// Parses one file; on failure records where and why and returns `None`.
fn read_file<T: DeserializeOwned>(
    dir: &Path,
    relative: &Path,
    problems: &mut Vec<Problem>,
) -> Option<PackFile<T>> {
    let path = dir.join(relative);
    let text = match crate::input::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            problems.push(Problem::in_file(&path, format!("cannot read: {err}")));
            return None;
        }
    };
    match serde_saphyr::from_str_with_options::<T>(&text, yaml_options()) {
        Ok(definition) => Some(PackFile {
            path: relative.to_owned(),
            definition,
        }),
        Err(err) => {
            let location = err.location().unwrap_or(serde_saphyr::Location::UNKNOWN);
            problems.push(Problem::at(&path, location, yaml_message(&err)));
            None
        }
    }
}

/// What is wrong with the file in a pack author's terms, without the parser's own "at line
/// L, column C" suffix (the problem carries the position), without its advice to the
/// programmer ("use from_str_multiple", "DuplicateKeyPolicy", "budget breached"), and
/// without control characters a YAML key could smuggle in.
fn yaml_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error;
    let cause = match err {
        Error::WithSnippet { error, .. } => error.as_ref(),
        other => other,
    };
    let message: Cow<'_, str> = match cause {
        Error::MultipleDocuments { .. } => "the file holds more than one YAML document (a \
             second `---`): a pack file defines one thing; move the rest to a file of its own"
            .into(),
        Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("`{key}` is given twice in the same mapping: keep one").into()
        }
        Error::DuplicateMappingKey { key: None, .. } => {
            "a key is given twice in the same mapping: keep one".into()
        }
        Error::Budget { .. } => "the file is nested too deeply or is too large for a pack \
             definition: flatten it"
            .into(),
        _ => serde_saphyr::UserMessageFormatter.format_message(err),
    };
    message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The files of one subdirectory that could be read.
struct DirectoryFiles<T> {
    files: Vec<PackFile<T>>,
    /// Whether every `*.yaml` file was read: if not, a ref that no file defines may be in
    /// a file with a problem of its own, and is not reported a second time.
    complete: bool,
}

/// Every `*.yaml` file directly in the subdirectory of `T`, by file name.
fn read_directory<T: Definition + DeserializeOwned>(
    dir: &Path,
    problems: &mut Vec<Problem>,
) -> anyhow::Result<DirectoryFiles<T>> {
    let subdir = dir.join(T::DIRECTORY);
    if !subdir.is_dir() {
        return Ok(DirectoryFiles {
            files: Vec::new(),
            complete: true,
        });
    }
    let mut names: Vec<PathBuf> = fs::read_dir(&subdir)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|entry| PathBuf::from(entry.file_name())))
                .collect()
        })
        .with_context(|| format!("cannot list {}", subdir.display()))?;
    names.sort();

    let mut files = Vec::new();
    let mut complete = true;
    for name in names {
        let relative = Path::new(T::DIRECTORY).join(&name);
        // Only a directory is skipped: a link or FIFO named *.yaml is refused by read_file.
        if dir.join(&relative).is_dir() {
            continue;
        }
        match name.extension().and_then(|extension| extension.to_str()) {
            Some("yaml") => match read_file(dir, &relative, problems) {
                Some(file) => files.push(file),
                None => complete = false,
            },
            Some("yml") => problems.push(Problem::in_file(
                &dir.join(&relative),
                format!(
                    "not read: pack files end in .yaml; rename it to {}",
                    name.with_extension("yaml").display()
                ),
            )),
            _ => {}
        }
    }
    Ok(DirectoryFiles { files, complete })
}

/// The refs a subdirectory defines, for checking the references of later kinds.
struct KnownRefs {
    refs: BTreeSet<String>,
    /// False when a file could not be read: its ref is unknown, so no reference is
    /// reported as dangling.
    complete: bool,
}

impl KnownRefs {
    fn may_contain(&self, reference: &str) -> bool {
        !self.complete || self.refs.contains(reference)
    }
}

/// The checks that need more than one file, collecting problems as they go.
struct PackCheck<'a> {
    dir: &'a Path,
    /// `None` when `pack.yaml` could not be read or its ref is malformed: refs are then
    /// checked for form only.
    pack_ref: Option<&'a str>,
    problems: Vec<Problem>,
}

impl PackCheck<'_> {
    fn report(&mut self, file: &Path, spanned_at: serde_saphyr::Location, message: String) {
        self.problems
            .push(Problem::at(&self.dir.join(file), spanned_at, message));
    }

    fn check_manifest(&mut self, manifest: &PackFile<PackManifest>) {
        let reference = &manifest.definition.reference;
        if !is_pack_ref(&reference.value) {
            self.report(
                &manifest.path,
                reference.referenced,
                format!(
                    "pack ref {:?} must be lowercase letters, digits, _ and -, starting with a letter",
                    reference.value
                ),
            );
        }
        let version = &manifest.definition.version;
        if !is_semantic_version(&version.value) {
            self.report(
                &manifest.path,
                version.referenced,
                format!(
                    "version {:?} is not a semantic version such as 1.0.0",
                    version.value
                ),
            );
        }
    }

    /// Checks the form of each ref and that no two files define the same one; returns
    /// the refs defined, for the references of later kinds.
    fn check_refs<T: Definition>(&mut self, directory: &DirectoryFiles<T>) -> KnownRefs {
        let mut first_definitions: BTreeMap<&str, &PackFile<T>> = BTreeMap::new();
        for file in &directory.files {
            let reference = file.definition.reference();
            if let Some(message) = self.ref_form_problem(T::TABLE, &reference.value) {
                self.report(&file.path, reference.referenced, message);
            }
            match first_definitions.get(reference.value.as_str()) {
                Some(first) => {
                    let first_reference = first.definition.reference();
                    let first_location = display_location(
                        &self.dir.join(&first.path),
                        position(first_reference.referenced),
                    );
                    self.report(
                        &file.path,
                        reference.referenced,
                        format!(
                            "duplicate {} ref {}, already defined at {first_location}; give one of them another ref",
                            T::TABLE,
                            reference.value
                        ),
                    );
                }
                None => {
                    first_definitions.insert(&reference.value, file);
                }
            }
        }
        KnownRefs {
            refs: first_definitions.into_keys().map(str::to_owned).collect(),
            complete: directory.complete,
        }
    }

    /// `<pack>.<name>`, lowercase, the pack being this one.
    fn ref_form_problem(&self, kind: &str, reference: &str) -> Option<String> {
        let Some((prefix, name)) = reference.split_once('.') else {
            return Some(format!(
                "{kind} ref {reference:?} must have the form <pack>.<name>, e.g. {}.{reference}",
                self.pack_ref.unwrap_or("core")
            ));
        };
        if name.is_empty() || name.contains('.') || prefix.is_empty() {
            return Some(format!(
                "{kind} ref {reference:?} must have the form <pack>.<name>, with one dot"
            ));
        }
        if reference != reference.to_lowercase() {
            return Some(format!(
                "{kind} ref {reference:?} must be lowercase: {}",
                reference.to_lowercase()
            ));
        }
        match self.pack_ref {
            Some(pack_ref) if prefix != pack_ref => Some(format!(
                "{kind} ref {reference} must start with this pack's ref: {pack_ref}.{name}"
            )),
            _ => None,
        }
    }

    fn check_action(&mut self, file: &PackFile<Action>, runtime_refs: &KnownRefs) {
        let action = &file.definition;
        let reference = &action.reference.value;
        if let Some(runtime) = &action.runtime {
            self.check_reference(file, "runtime", runtime, runtime_refs, reference);
        }
        if let Some(timeout) = &action.timeout_seconds {
            if timeout.value <= 0 {
                self.report(
                    &file.path,
                    timeout.referenced,
                    format!(
                        "timeout_seconds of action {reference} must be positive, not {}",
                        timeout.value
                    ),
                );
            }
        }
        let builtin = action
            .runtime
            .as_ref()
            .is_some_and(|runtime| runtime.value == BUILTIN_ACTION_RUNTIME);
        if !builtin {
            self.check_entrypoint(file, "action", &action.entrypoint, BUILTIN_ACTION_RUNTIME);
        }
    }

    fn check_sensor(
        &mut self,
        file: &PackFile<Sensor>,
        runtime_refs: &KnownRefs,
        trigger_refs: &KnownRefs,
    ) {
        let sensor = &file.definition;
        let reference = &sensor.reference.value;
        self.check_reference(file, "runtime", &sensor.runtime, runtime_refs, reference);
        self.check_reference(file, "trigger", &sensor.trigger, trigger_refs, reference);
        if let Some(interval) = &sensor.poll_interval_seconds {
            if interval.value <= 0 {
                self.report(
                    &file.path,
                    interval.referenced,
                    format!(
                        "poll_interval_seconds of sensor {reference} must be positive, not {}",
                        interval.value
                    ),
                );
            }
        }
        if sensor.runtime.value != BUILTIN_SENSOR_RUNTIME {
            self.check_entrypoint(file, "sensor", &sensor.entrypoint, BUILTIN_SENSOR_RUNTIME);
        }
    }

    /// `target` (a runtime or trigger ref) must be defined by a file of this pack.
    fn check_reference<T: Definition>(
        &mut self,
        file: &PackFile<T>,
        kind: &str,
        target: &Spanned<String>,
        defined: &KnownRefs,
        referrer: &str,
    ) {
        if !defined.may_contain(&target.value) {
            self.report(
                &file.path,
                target.referenced,
                format!(
                    "{} {referrer} names {kind} {}, which no file in {kind}s/ defines; add it or fix the ref",
                    T::TABLE,
                    target.value
                ),
            );
        }
    }

    /// An entrypoint that is not a built-in is a file, relative to the pack directory.
    fn check_entrypoint<T: Definition>(
        &mut self,
        file: &PackFile<T>,
        kind: &str,
        entrypoint: &Spanned<String>,
        builtin_runtime: &str,
    ) {
        let reference = &file.definition.reference().value;
        let relative = Path::new(&entrypoint.value);
        let inside_pack = relative
            .components()
            .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
        let message = if !inside_pack || entrypoint.value.is_empty() {
            format!(
                "entrypoint {:?} of {kind} {reference} must be a path inside the pack directory (relative, without ..)",
                entrypoint.value
            )
        } else if !self.dir.join(relative).is_file() {
            format!(
                "entrypoint {} of {kind} {reference} is not a file in the pack ({}); add the script, fix the path, or use runtime {builtin_runtime} for a built-in",
                entrypoint.value,
                self.dir.join(relative).display()
            )
        } else {
            return;
        };
        self.report(&file.path, entrypoint.referenced, message);
    }
}

/// `^[a-z][a-z0-9_-]*$`, the `pack_ref_format` constraint.
fn is_pack_ref(reference: &str) -> bool {
    let mut chars = reference.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `MAJOR.MINOR.PATCH` with an optional `-pre` and `+build`, as `pack_version_semver`
/// checks it.
fn is_semantic_version(version: &str) -> bool {
    let (version, build) = match version.split_once('+') {
        Some((version, build)) => (version, Some(build)),
        None => (version, None),
    };
    let (core, pre_release) = match version.split_once('-') {
        Some((core, pre_release)) => (core, Some(pre_release)),
        None => (version, None),
    };
    let label_ok = |label: Option<&str>| {
        label.is_none_or(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && label_ok(pre_release)
        && label_ok(build)
}
