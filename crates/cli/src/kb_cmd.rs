//! `baton kb`: read and chunk knowledge-base articles, convert ABCD's guidelines.

use crate::eval::{load_embedder, ModelArgs, Progress};
use anyhow::{bail, Context, Result};
use baton_ai::kb::PreparedArticle;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KbCommand {
    /// Read a folder of Markdown articles (or one file, or ABCD's guidelines.json), cut them into
    /// chunks and report them; with --server and --api-key, upload them to a workspace.
    Import {
        /// A folder of .md files (sub-folders included), a Markdown file or guidelines.json.
        path: PathBuf,
        /// The collection the articles go to (a file's front matter may name its own).
        #[arg(long, default_value = "default")]
        collection: String,
        /// List every article with its chunks.
        #[arg(long)]
        verbose: bool,
        /// A Baton server to upload to, e.g. http://127.0.0.1:8080.
        #[arg(long, requires = "api_key")]
        server: Option<String>,
        /// An admin API key of the workspace (bk_…).
        #[arg(long, env = "BATON_API_KEY")]
        api_key: Option<String>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Convert ABCD's guidelines.json into one Markdown article per subflow.
    ConvertAbcd { guidelines: PathBuf, out_dir: PathBuf },
}

pub fn run(command: KbCommand) -> Result<ExitCode> {
    match command {
        KbCommand::Import {
            path,
            collection,
            verbose,
            server,
            api_key,
            model,
        } => import(path, &collection, verbose, &model, server.zip(api_key)),
        KbCommand::ConvertAbcd { guidelines, out_dir } => convert_abcd(guidelines, out_dir),
    }
}

fn import(
    path: PathBuf,
    collection: &str,
    verbose: bool,
    model: &ModelArgs,
    upload: Option<(String, String)>,
) -> Result<ExitCode> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let articles = crate::abcd::load_articles(&path, collection)?;
    let embedder = load_embedder(model)?;
    let mut bar = Progress::new("chunking");
    let total = articles.len();
    let mut chunks = 0;
    let mut words = 0;
    let mut lines = Vec::new();
    let payload: Vec<serde_json::Value> = articles
        .iter()
        .map(|a| serde_json::json!({ "id": a.id, "collection": a.collection, "title": a.title, "url": a.url, "markdown": a.markdown }))
        .collect();
    for (i, a) in articles.into_iter().enumerate() {
        let id = a.id.clone();
        let title = a.title.clone();
        let coll = a.collection.clone();
        let prepared = PreparedArticle::new(a, embedder.as_deref()).with_context(|| format!("article {id}"))?;
        chunks += prepared.chunk_count();
        let w: usize = prepared
            .chunks()
            .iter()
            .map(|c| c.text.split_whitespace().count())
            .sum();
        words += w;
        lines.push(format!(
            "{id}  [{coll}]  \"{title}\"  {} chunks, {w} words",
            prepared.chunk_count()
        ));
        bar.set(i + 1, total);
    }
    bar.finish();
    if verbose {
        for l in &lines {
            println!("{l}");
        }
    }
    let Some((server, api_key)) = upload else {
        println!("{total} articles, {chunks} chunks, {words} words read from `{collection}` (add --server and --api-key to upload them)");
        return Ok(ExitCode::SUCCESS);
    };
    let url = format!("{}/api/v1/kb/import", server.trim_end_matches('/'));
    let mut bar = Progress::new("uploading");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let http = reqwest::Client::new();
    for (n, batch) in payload.chunks(500).enumerate() {
        let request = http
            .post(&url)
            .bearer_auth(&api_key)
            .json(&serde_json::json!({ "articles": batch }));
        let (status, text) = runtime
            .block_on(async {
                let response = request.send().await?;
                let status = response.status();
                Ok::<_, reqwest::Error>((status, response.text().await.unwrap_or_default()))
            })
            .with_context(|| format!("uploading to {url}"))?;
        if !status.is_success() {
            bail!("the server refused the upload ({status}): {text}");
        }
        bar.set((n * 500 + batch.len()).min(total), total);
    }
    bar.finish();
    println!("{total} articles, {chunks} chunks, {words} words uploaded to {server}");
    Ok(ExitCode::SUCCESS)
}

fn convert_abcd(guidelines: PathBuf, out_dir: PathBuf) -> Result<ExitCode> {
    let articles = crate::abcd::load(&guidelines)?;
    for a in &articles {
        let path = out_dir.join(format!("{}.md", a.id));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let text = format!(
            "---\ntitle: {}\ncollection: {}\n---\n{}",
            a.title, a.collection, a.markdown
        );
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{} articles written to {}", articles.len(), out_dir.display());
    Ok(ExitCode::SUCCESS)
}
