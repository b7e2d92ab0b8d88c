//! quinn 0.9 (Debian's librust-quinn-dev) as a baseline peer for srudp's side-by-side benchmarks.
//! One process is one side, on a single-threaded tokio runtime (srudp's bench gives each side one
//! thread too). The bench programs start two of these and read what they print (see
//! bench/io/external_peer.hpp for the protocol):
//!
//!   quinn_peer receive --listen IP:PORT --streams K [--congestion cubic|bbr|newreno]
//!       prints "listening PORT", then "received BYTES SECONDS" once K unidirectional streams
//!       have been read to their end (seconds from the connection's establishment)
//!   quinn_peer send --connect IP:PORT --bytes N --streams K [--congestion ...]
//!       opens K unidirectional streams and writes N bytes on each, then waits to be acknowledged
//!   quinn_peer echo --listen IP:PORT
//!       prints "listening PORT", then echoes each message of the bidirectional stream it accepts
//!   quinn_peer ping --connect IP:PORT --count N --size S [--warmup W]
//!       prints "setup_ns T" and "rtt_ns R1 R2 ..." (one S-byte message at a time, echoed back)
//!   quinn_peer hold --listen IP:PORT --connections N
//!   quinn_peer idle --connect IP:PORT --connections N
//!       the accepting and the connecting side of N idle connections (one endpoint each side);
//!       each prints "rss_growth BYTES" once its N are established and 300 ms have passed, then
//!       holds them for a minute (the bench kills it sooner)
//!
//! Sizes and windows match srudp's bench: 1200-byte datagrams (quinn 0.9 does no path MTU
//! discovery), 16 MiB connection and 4 MiB stream receive windows. Certificates come from the
//! openssl command (a fresh self-signed P-256 one per receiver); the client does not verify it,
//! as srudp's bench peers share a random PSK instead.
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Args {
    mode: String,
    address: SocketAddr,
    bytes: u64,
    streams: u64,
    count: usize,
    size: usize,
    warmup: usize,
    congestion: String,
    connections: usize,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it
        .next()
        .ok_or("usage: quinn_peer receive|send|echo|ping|hold|idle [options]")?;
    let mut args = Args {
        mode,
        address: "127.0.0.1:0".parse()?,
        bytes: 64 << 20,
        streams: 1,
        count: 2000,
        size: 64,
        warmup: 200,
        congestion: "cubic".into(),
        connections: 1000,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" | "--connect" => args.address = value.parse()?,
            "--bytes" => args.bytes = value.parse()?,
            "--streams" => args.streams = value.parse()?,
            "--count" => args.count = value.parse()?,
            "--size" => args.size = value.parse()?,
            "--warmup" => args.warmup = value.parse()?,
            "--congestion" => args.congestion = value,
            "--connections" => args.connections = value.parse()?,
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    Ok(args)
}

fn transport(args: &Args) -> Result<Arc<quinn::TransportConfig>> {
    // Windows are limits, not allocations: idle connections take the same memory with quinn's
    // defaults (99 KB per side either way).
    let mut t = quinn::TransportConfig::default();
    t.receive_window(quinn::VarInt::from_u32(16 << 20));
    t.stream_receive_window(quinn::VarInt::from_u32(4 << 20));
    t.send_window(16 << 20);
    t.max_concurrent_uni_streams(quinn::VarInt::from_u32(64));
    t.max_idle_timeout(Some(quinn::IdleTimeout::try_from(Duration::from_secs(30))?));
    match args.congestion.as_str() {
        "cubic" => t.congestion_controller_factory(Arc::new(quinn::congestion::CubicConfig::default())),
        "bbr" => t.congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default())),
        "newreno" => t.congestion_controller_factory(Arc::new(quinn::congestion::NewRenoConfig::default())),
        other => return Err(format!("unknown congestion control {other}").into()),
    };
    Ok(Arc::new(t))
}

// A self-signed certificate and its PKCS#8 key, both DER, from the openssl command.
fn self_signed() -> Result<(rustls::Certificate, rustls::PrivateKey)> {
    let dir = std::env::temp_dir().join(format!("quinn_peer.{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (key, cert) = (dir.join("key.der"), dir.join("cert.der"));
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl").args(args).output()?;
        if !out.status.success() {
            return Err(format!("openssl {:?}: {}", args, String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(())
    };
    // genpkey writes PKCS#8, which rustls takes as DER; req signs the certificate with it.
    run(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-outform",
        "DER",
        "-out",
        key.to_str().unwrap(),
    ])?;
    run(&[
        "req",
        "-x509",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-keyform",
        "DER",
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-outform",
        "DER",
        "-out",
        cert.to_str().unwrap(),
    ])?;
    let pair = (
        rustls::Certificate(std::fs::read(&cert)?),
        rustls::PrivateKey(std::fs::read(&key)?),
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(pair)
}

struct AcceptAnyCertificate;

impl rustls::client::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::Certificate,
        _intermediates: &[rustls::Certificate],
        _server_name: &rustls::ServerName,
        _scts: &mut dyn Iterator<Item = &[u8]>,
        _ocsp_response: &[u8],
        _now: SystemTime,
    ) -> std::result::Result<rustls::client::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::ServerCertVerified::assertion())
    }
}

fn server(args: &Args) -> Result<quinn::Endpoint> {
    let (cert, key) = self_signed()?;
    let mut config = quinn::ServerConfig::with_single_cert(vec![cert], key)?;
    config.transport_config(transport(args)?);
    let endpoint = quinn::Endpoint::server(config, args.address)?;
    println!("listening {}", endpoint.local_addr()?.port());
    Ok(endpoint)
}

fn client_endpoint(args: &Args) -> Result<quinn::Endpoint> {
    let crypto = rustls::ClientConfig::builder()
        .with_safe_defaults()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate))
        .with_no_client_auth();
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(transport(args)?);
    let local: SocketAddr = if args.address.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let mut endpoint = quinn::Endpoint::client(local)?;
    endpoint.set_default_client_config(config);
    Ok(endpoint)
}

async fn client(args: &Args) -> Result<(quinn::Endpoint, quinn::Connection)> {
    let endpoint = client_endpoint(args)?;
    let connection = endpoint.connect(args.address, "localhost")?.await?;
    Ok((endpoint, connection))
}

// Resident set size of this process (/proc/self/statm, in pages of 4 KiB).
fn rss_bytes() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm.split_whitespace().nth(1).ok_or("statm")?.parse()?;
    Ok(pages * 4096)
}

async fn report_and_hold(rss_before: u64) -> Result<()> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("rss_growth {}", rss_bytes()? as i64 - rss_before as i64);
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok(())
}

async fn hold(args: Args) -> Result<()> {
    let endpoint = server(&args)?;
    let rss_before = rss_bytes()?;
    let mut held = Vec::with_capacity(args.connections);
    while held.len() < args.connections {
        held.push(endpoint.accept().await.ok_or("endpoint closed")?.await?);
    }
    report_and_hold(rss_before).await
}

async fn idle(args: Args) -> Result<()> {
    let endpoint = client_endpoint(&args)?;
    let rss_before = rss_bytes()?;
    let mut held = Vec::with_capacity(args.connections);
    while held.len() < args.connections {
        held.push(endpoint.connect(args.address, "localhost")?.await?);
    }
    report_and_hold(rss_before).await
}

async fn receive(args: Args) -> Result<()> {
    let endpoint = server(&args)?;
    let connection = endpoint.accept().await.ok_or("endpoint closed")?.await?;
    let start = Instant::now();
    let mut readers = Vec::new();
    for _ in 0..args.streams {
        let mut stream = connection.accept_uni().await?;
        readers.push(tokio::task::spawn_local(async move {
            let mut total = 0u64;
            while let Some(chunk) = stream.read_chunk(usize::MAX, true).await? {
                total += chunk.bytes.len() as u64;
            }
            Ok::<u64, quinn::ReadError>(total)
        }));
    }
    let mut total = 0u64;
    for reader in readers {
        total += reader.await??;
    }
    println!("received {} {:.6}", total, start.elapsed().as_secs_f64());
    // Stay until the sender closes, so its last ACKs and its close are answered.
    let _ = tokio::time::timeout(Duration::from_secs(5), connection.closed()).await;
    Ok(())
}

async fn send(args: Args) -> Result<()> {
    let (endpoint, connection) = client(&args).await?;
    let chunk = bytes::Bytes::from(vec![0x5au8; 256 * 1024]);
    let mut writers = Vec::new();
    for _ in 0..args.streams {
        let mut stream = connection.open_uni().await?;
        let (chunk, bytes) = (chunk.clone(), args.bytes);
        writers.push(tokio::task::spawn_local(async move {
            let mut sent = 0u64;
            while sent < bytes {
                let n = std::cmp::min(chunk.len() as u64, bytes - sent) as usize;
                stream.write_chunk(chunk.slice(..n)).await?;
                sent += n as u64;
            }
            stream.finish().await?;
            Ok::<(), quinn::WriteError>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    connection.close(0u32.into(), b"done");
    endpoint.wait_idle().await;
    Ok(())
}

async fn echo(args: Args) -> Result<()> {
    let endpoint = server(&args)?;
    let connection = endpoint.accept().await.ok_or("endpoint closed")?.await?;
    let (mut send, mut recv) = connection.accept_bi().await?;
    let mut buffer = vec![0u8; 64 * 1024];
    // Until the pinging side finishes its stream or closes the connection: both end the echo.
    while let Ok(Some(n)) = recv.read(&mut buffer).await {
        if send.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    Ok(())
}

async fn ping(args: Args) -> Result<()> {
    let start = Instant::now();
    let (endpoint, connection) = client(&args).await?;
    let (mut send, mut recv) = connection.open_bi().await?;
    let message = vec![0x5au8; args.size];
    let mut reply = vec![0u8; args.size];
    // The first message also opens the stream at the echo side: counted in set-up, like a handshake.
    send.write_all(&message).await?;
    recv.read_exact(&mut reply).await?;
    println!("setup_ns {}", start.elapsed().as_nanos());
    let mut rtts = Vec::with_capacity(args.count);
    for i in 0..args.warmup + args.count {
        let t = Instant::now();
        send.write_all(&message).await?;
        recv.read_exact(&mut reply).await?;
        if i >= args.warmup {
            rtts.push(t.elapsed().as_nanos().to_string());
        }
    }
    println!("rtt_ns {}", rtts.join(" "));
    send.finish().await?;
    connection.close(0u32.into(), b"done");
    endpoint.wait_idle().await;
    Ok(())
}

fn main() {
    let result = (|| -> Result<()> {
        let args = parse_args()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            match args.mode.as_str() {
                "receive" => receive(args).await,
                "send" => send(args).await,
                "echo" => echo(args).await,
                "ping" => ping(args).await,
                "hold" => hold(args).await,
                "idle" => idle(args).await,
                other => Err(format!("unknown mode {other}").into()),
            }
        })
    })();
    if let Err(e) = result {
        eprintln!("quinn_peer: {e}");
        std::process::exit(1);
    }
}
