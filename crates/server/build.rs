//! Embeds the built web app (`web/dist`, made by `npm ci && npm run build` in `web/`) into the
//! server: every file becomes an `include_bytes!` entry of `$OUT_DIR/web_assets.rs`, read by
//! `src/routes/web.rs`. Without `web/dist` the list is empty and the server says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
        // A new build of the app (or its removal) rebuilds the server.
        println!("cargo:rerun-if-changed={}", dist.display());
    } else {
        // Not built: watch web/ so that building it later is noticed.
        println!("cargo:rerun-if-changed={}", web.display());
    }
    files.sort();
    let mut code = String::from("/// Files of web/dist: path relative to web/dist, contents.\n");
    code.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("web_assets.rs");
    fs::write(&out, code).expect("writing web_assets.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let abs = fs::canonicalize(&path).unwrap_or(path);
            files.push((name, abs));
        }
    }
}
