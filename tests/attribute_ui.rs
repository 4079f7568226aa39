//! The attribute's compile-time errors, one case per message, each pinned in
//! `tests/ui/*.stderr`. After changing a message on purpose, regenerate them with
//! `TRYBUILD=overwrite cargo test --test attribute_ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
