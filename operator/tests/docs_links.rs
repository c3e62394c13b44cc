//! Every relative link in the README, SECURITY.md and the Markdown under docs/, charts/ and
//! examples/ points at a file that exists, and every `#anchor` at a heading of that file (as
//! GitHub names headings). Links inside code blocks and to other sites are not followed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operator crate sits in the repository")
        .to_path_buf()
}

fn markdown_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            markdown_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

/// The text outside fenced code blocks and inline code spans, line by line.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut prose = String::new();
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                prose.push(c);
            }
        }
        lines.push((number + 1, prose));
    }
    lines
}

/// Link targets of `](target)` on a line.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        targets.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    targets
}

/// GitHub's anchor of a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut seen = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        if let Some(heading) = line.strip_prefix('#') {
            let heading = heading.trim_start_matches('#');
            let base = slug(&heading.replace('`', ""));
            // Repeated headings get -1, -2, ...
            let mut anchor = base.clone();
            let mut n = 1;
            while !seen.insert(anchor.clone()) {
                anchor = format!("{base}-{n}");
                n += 1;
            }
        }
    }
    seen
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("SECURITY.md")];
    for directory in ["docs", "charts", "examples", "bench", "e2e"] {
        markdown_files(&root.join(directory), &mut files);
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("reads the Markdown file");
        for (line, prose) in prose_lines(&text) {
            for target in link_targets(&prose) {
                if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                    continue;
                }
                checked += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let linked = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().expect("a file has a folder").join(path)
                };
                let shown = format!(
                    "{}:{line}: {target}",
                    file.strip_prefix(&root).unwrap_or(file).display()
                );
                if !linked.exists() {
                    broken.push(format!("{shown}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor
                    && linked.extension().is_some_and(|e| e == "md")
                {
                    let text = std::fs::read_to_string(&linked).expect("reads the linked file");
                    if !anchors(&text).contains(anchor) {
                        broken.push(format!("{shown}: no heading with this anchor"));
                    }
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} links found: is the scan right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_named_as_github_names_them() {
    let text = "# Two commands\n## Following the operator: `Database::from_routing`\n## 2. Declare a database\n## Two commands\n";
    let anchors = anchors(text);
    assert!(anchors.contains("two-commands"));
    assert!(anchors.contains("two-commands-1"));
    assert!(anchors.contains("following-the-operator-databasefrom_routing"));
    assert!(anchors.contains("2-declare-a-database"));
}

/// Every page under docs/ is in the site's table of contents (docs/SUMMARY.md, read by
/// `make docs`), and every entry there is a page.
#[test]
fn every_docs_page_is_in_the_site_summary() {
    let docs = root().join("docs");
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).expect("docs/SUMMARY.md");
    let listed: BTreeSet<String> = prose_lines(&summary)
        .iter()
        .flat_map(|(_, line)| link_targets(line))
        .collect();
    let mut pages = Vec::new();
    markdown_files(&docs, &mut pages);
    let pages: BTreeSet<String> = pages
        .iter()
        .map(|p| {
            p.strip_prefix(&docs)
                .expect("under docs/")
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| p != "SUMMARY.md")
        .collect();
    let missing: Vec<&String> = pages.difference(&listed).collect();
    let extra: Vec<&String> = listed.difference(&pages).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/SUMMARY.md: pages not listed {missing:?}, entries without a page {extra:?}"
    );
}

/// The values of `attribute="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!(" {attribute}=\"");
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&needle) {
        let after = &rest[start + needle.len()..];
        let Some(end) = after.find('"') else { break };
        values.push(&after[..end]);
        rest = &after[end..];
    }
    values
}

/// Every internal link of the site `make docs` built (the folder in `FOX_DOCS_SITE`) reaches a
/// page, and every `#anchor` an element of that page; none leaves the site (`make docs` points
/// links to repository files at GitHub). `make docs` runs it after mdBook.
#[test]
#[ignore = "needs the site `make docs` builds; `make docs` runs it"]
fn the_built_site_has_no_dead_internal_link() {
    let site = PathBuf::from(
        std::env::var("FOX_DOCS_SITE").expect("FOX_DOCS_SITE names the built site's folder"),
    );
    let mut pages = Vec::new();
    fn html_files(directory: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(directory)
            .expect("reads the site")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                html_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "html") {
                found.push(path);
            }
        }
    }
    html_files(&site, &mut pages);
    assert!(
        pages.len() > 10,
        "only {} pages in {}",
        pages.len(),
        site.display()
    );
    let ids = |page: &Path| -> BTreeSet<String> {
        let html = std::fs::read_to_string(page).unwrap_or_default();
        attribute_values(&html, "id")
            .into_iter()
            .chain(attribute_values(&html, "name"))
            .map(str::to_string)
            .collect()
    };
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let html = std::fs::read_to_string(page).expect("reads a page");
        let shown = page
            .strip_prefix(&site)
            .unwrap_or(page)
            .display()
            .to_string();
        // mdBook's 404 page links from the site's root, wherever it is served.
        let base = if shown == "404.html" {
            site.clone()
        } else {
            page.parent().expect("a page has a folder").to_path_buf()
        };
        for target in attribute_values(&html, "href") {
            if target.contains("://")
                || target.starts_with("mailto:")
                || target.starts_with("javascript:")
                || target.starts_with("//")
            {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target, None),
            };
            let path = path.split('?').next().unwrap_or_default();
            let mut linked = if path.is_empty() {
                page.clone()
            } else if let Some(absolute) = path.strip_prefix('/') {
                site.join(absolute)
            } else {
                base.join(path)
            };
            if linked.is_dir() {
                linked = linked.join("index.html");
            }
            let linked = normalized(&linked);
            if !linked.starts_with(&site) {
                // `make docs` points links to repository files at GitHub.
                broken.push(format!("{shown}: {target}: leaves the site"));
                continue;
            }
            if !linked.exists() {
                broken.push(format!("{shown}: {target}: no such page"));
                continue;
            }
            if let Some(anchor) = anchor
                && !anchor.is_empty()
                && linked.extension().is_some_and(|e| e == "html")
                && !ids(&linked).contains(anchor)
            {
                broken.push(format!("{shown}: {target}: no element with this id"));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} links in the site: is the scan right?"
    );
    broken.sort();
    broken.dedup();
    assert!(
        broken.is_empty(),
        "dead links in the site:\n{}",
        broken.join("\n")
    );
}

/// `path` with `.` and `..` resolved without touching the file system.
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
