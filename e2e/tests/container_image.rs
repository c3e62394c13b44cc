//! The operator image is built from base images pinned by digest, so a rebuild starts from the
//! bytes that were reviewed rather than whatever a tag points at that day.

#[test]
fn every_base_image_is_pinned_by_digest() {
    let dockerfile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Dockerfile"))
        .expect("the Dockerfile is readable");
    let images: Vec<&str> = dockerfile
        .lines()
        .filter_map(|line| line.trim().strip_prefix("FROM "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(
        images.len(),
        2,
        "a build stage and a runtime stage: {images:?}"
    );
    for image in images {
        let (_, digest) = image
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{image} is not pinned by digest"));
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{image}: a sha256 digest is 64 hex digits"
        );
    }
}
