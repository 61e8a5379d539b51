use axum::{routing::get, Json, Router};
use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
}

#[derive(Serialize, Deserialize, Debug)]
struct Health {
    id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    sqlite: String,
}

#[derive(thiserror::Error, Debug)]
enum AppError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

fn health() -> Result<Health, AppError> {
    let conn = rusqlite::Connection::open_in_memory()?;
    let sqlite: String = conn.query_row("select sqlite_version()", [], |r| r.get(0))?;
    Ok(Health { id: uuid::Uuid::new_v4(), at: chrono::Utc::now(), sqlite })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let re = regex::Regex::new(r"^\d+$")?;
    tracing::info!(port = args.port, numeric = re.is_match("8080"), "starting");
    let _client = reqwest::Client::builder().use_rustls_tls().build()?;
    let app = Router::new()
        .route("/health", get(|| async { Json(health().map_err(|e| e.to_string())) }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::cors::CorsLayer::permissive());
    if std::env::var("WEB_SERVICE_SERVE").is_ok() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        axum::serve(listener, app).await?;
    } else {
        println!("{}", serde_json::to_string(&health()?)?);
    }
    Ok(())
}
