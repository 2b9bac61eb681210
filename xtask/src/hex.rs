//! Lowercase hexadecimal, as digests are printed and stored everywhere in the tool.

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
