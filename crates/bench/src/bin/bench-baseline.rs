//! `bench-baseline`: the bare WebSocket server the benchmark compares csms with.
//!
//! ```text
//! bench-baseline --listen 127.0.0.1:9100
//! ```

use std::net::SocketAddr;

use clap::Parser;

/// A minimal OCPP 1.6J WebSocket server: fixed CALLRESULTs, no validation, no storage.
#[derive(Parser)]
#[command(name = "bench-baseline", version)]
struct Args {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: SocketAddr,
    /// Runtime worker threads (0 = one per CPU, as csms).
    #[arg(long, default_value_t = 0)]
    workers: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if args.workers > 0 {
        builder.worker_threads(args.workers);
    }
    let result = builder.build().and_then(|runtime| {
        runtime.block_on(async {
            let listener = bench::baseline::bind(args.listen).await?;
            eprintln!("bench-baseline listening on {}", listener.local_addr()?);
            bench::baseline::serve(listener).await
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-baseline: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
