//! The `mcp-gatekeeper` command line: `serve`, the token client (`token`, `call`) and `policy`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};

use mcp_gatekeeper::client::{self, TokenSpec};
use mcp_gatekeeper::config::{self, Env};
use mcp_gatekeeper::jsonrpc::{self, Request};

#[derive(Parser)]
#[command(
    name = "mcp-gatekeeper",
    version,
    about = "JWT + RBAC gatekeeper for MCP servers, on Pingora"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy.
    Serve {
        /// Configuration file (default conf/gatekeeper.yaml, if present); the environment wins.
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Print a JWT signed with JWT_SECRET (algorithm JWT_ALG, default HS256).
    Token(TokenArgs),
    /// Mint a token, send one JSON-RPC call and print the response.
    Call(CallArgs),
    /// Validate a policy file or explain a decision.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Redact a response read on stdin as the gatekeeper would for a role; print it, and the
    /// counts per entity on stderr. For testing redaction rules offline.
    Redact {
        #[arg(long)]
        policy: PathBuf,
        /// Role; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The input is an SSE stream (text/event-stream) rather than a JSON body.
        #[arg(long)]
        sse: bool,
        /// The method the input answers (`tools/list`, `initialize`...), so protocol members
        /// pass as they would through the proxy; default `tools/call`.
        #[arg(long, default_value = "tools/call")]
        answers: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of one file, or of rotated files given oldest first; names the
    /// first bad line. Uses GATEKEEPER_AUDIT_KEY when the trail is keyed.
    Verify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct TokenArgs {
    #[arg(long)]
    user_id: String,
    /// Role; repeat for several (they go in a `roles` array).
    #[arg(long = "role")]
    roles: Vec<String>,
    #[arg(long)]
    username: Option<String>,
    /// Lifetime in seconds (negative mints an already expired token, for testing).
    #[arg(long, default_value_t = 300, allow_negative_numbers = true)]
    ttl: i64,
    /// Extra string claim, e.g. --claim patient_id=NUGWI.
    #[arg(long = "claim", value_parser = key_value)]
    claims: Vec<(String, String)>,
}

#[derive(Args)]
struct CallArgs {
    #[command(flatten)]
    token: TokenArgs,
    /// Where to send; defaults to MCP_SERVER_URL, else http://127.0.0.1:8080/mcp.
    #[arg(
        long,
        env = "MCP_SERVER_URL",
        default_value = "http://127.0.0.1:8080/mcp"
    )]
    url: String,
    /// Send the legacy form (the method is the tool name) instead of tools/call.
    #[arg(long)]
    legacy: bool,
    /// Send no Authorization header at all (to see the gatekeeper refuse).
    #[arg(long)]
    no_token: bool,
    /// Trust this CA (PEM) for an https:// URL instead of the system roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Present this client certificate (PEM) to a listener that asks for one; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Tool name (sent as tools/call) or MCP method (e.g. tools/list).
    target: String,
    /// String argument k=v; repeat for several.
    #[arg(long = "arg", value_parser = key_value)]
    args: Vec<(String, String)>,
    /// JSON argument k=<json>, e.g. --arg-json limit=5.
    #[arg(long = "arg-json", value_parser = key_value)]
    json_args: Vec<(String, String)>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Load and compile a policy; exit non-zero with `FILE:line:column: error` if it is
    /// invalid; print warnings for rules that can never matter.
    Check {
        file: PathBuf,
        /// The server's tools/list response (JSON), to check tool names against.
        #[arg(long)]
        tools: Option<PathBuf>,
    },
    /// Print the decision for one call and the rule that made it.
    Explain {
        #[arg(long)]
        policy: PathBuf,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "claim", value_parser = key_value)]
        claims: Vec<(String, String)>,
        target: String,
        #[arg(long = "arg", value_parser = key_value)]
        args: Vec<(String, String)>,
    },
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected key=value, got '{s}'"))
}

/// mimalloc: per-thread heaps without glibc's arena locks (see `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    // Held to the end: dropping it flushes the log lines still buffered.
    let _log = mcp_gatekeeper::logs::init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let default = PathBuf::from("conf/gatekeeper.yaml");
            let path = config.or_else(|| default.exists().then_some(default));
            mcp_gatekeeper::proxy::server::run(path, Env::from_process())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(args) => {
            println!("{}", mint(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Call(args) => call(args),
        Command::Policy(PolicyCommand::Check { file, tools }) => check(&file, tools.as_deref()),
        Command::Audit(AuditCommand::Verify { files }) => verify_audit(&files),
        Command::Redact {
            policy,
            roles,
            sse,
            answers,
        } => redact(&policy, roles, sse, &answers),
        Command::Policy(PolicyCommand::Explain {
            policy,
            roles,
            claims,
            target,
            args,
        }) => explain(&policy, roles, claims, &target, args),
    }
}

fn check(file: &std::path::Path, tools: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let policy = match mcp_gatekeeper::policy_file::load(file) {
        Ok(p) => p,
        Err(e) => {
            match e.location() {
                Some((line, column)) => eprintln!("{}:{line}:{column}: {e}", file.display()),
                None => eprintln!("{}: {e}", file.display()),
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let offered = tools.map(offered_tools).transpose()?;
    for warning in policy.lint(offered.as_deref()) {
        eprintln!("{}: warning: {warning}", file.display());
    }
    let mut roles: Vec<&str> = policy.role_names().collect();
    roles.sort_unstable();
    println!(
        "{}: ok (version {}; roles: {})",
        file.display(),
        policy.version(),
        roles.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Tool names from a saved `tools/list` response (or its bare `result`).
fn offered_tools(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let tools = value
        .pointer("/result/tools")
        .or_else(|| value.get("tools"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            anyhow!(
                "{}: no tools list (expected a tools/list response)",
                path.display()
            )
        })?;
    Ok(tools
        .iter()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect())
}

fn redact(
    path: &std::path::Path,
    roles: Vec<String>,
    sse: bool,
    answers: &str,
) -> anyhow::Result<ExitCode> {
    use std::io::{Read, Write};
    let policy = mcp_gatekeeper::policy_file::load(path)?;
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    let who = mcp_gatekeeper::auth::Identity {
        user_id: "redact".into(),
        username: None,
        roles,
        claims: Map::new(),
        certificate: None,
    };
    let Some(redactor) = policy.redactor_for(&who) else {
        std::io::stdout().write_all(&input)?;
        eprintln!("(role sees responses unchanged)");
        return Ok(ExitCode::SUCCESS);
    };
    // The same path the proxy's answers take, so what this prints is what a client would get.
    let plan = mcp_gatekeeper::response::Plan {
        list: None,
        redactor: Some(redactor),
        asked: mcp_gatekeeper::redact::Asked::new([(None, answers, None)]),
        observe: false,
        watch: Default::default(),
        private_cache: false,
        read_passed_body: false,
        id: Value::Null,
        cap: usize::MAX,
    };
    let mut rewrite = mcp_gatekeeper::response::Rewrite::new(plan);
    let media = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    rewrite.start(&mcp_gatekeeper::response::Head {
        content_types: vec![media],
        content_encodings: vec![],
    });
    let output = rewrite.push(&input, true);
    let counts = rewrite.counts;
    std::io::stdout().write_all(&output)?;
    if !output.ends_with(b"\n") {
        println!();
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!(
        "redacted: {}",
        if summary.is_empty() {
            "nothing".into()
        } else {
            summary.join(" ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_audit(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut texts = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        texts.push((f.display().to_string(), text));
    }
    let key = std::env::var("GATEKEEPER_AUDIT_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let chain = mcp_gatekeeper::audit::Chain::new(key.map(String::into_bytes));
    match mcp_gatekeeper::audit::verify(&chain, &texts) {
        Ok(v) => {
            let anchor = if v.anchor == mcp_gatekeeper::audit::chain::GENESIS {
                "the start of the trail".to_string()
            } else {
                format!("an earlier file ending in {}", &v.anchor[..16])
            };
            println!(
                "ok: {} lines, chain intact from {anchor}; last hash {}",
                v.lines, v.last_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("{broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn mint(args: &TokenArgs) -> anyhow::Result<String> {
    let secret = std::env::var("JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("JWT_SECRET is not set (export it or put it in .env)"))?;
    let alg =
        config::parse_algorithm(&std::env::var("JWT_ALG").unwrap_or_else(|_| "HS256".into()))?;
    let spec = TokenSpec {
        user_id: args.user_id.clone(),
        roles: args.roles.clone(),
        username: args.username.clone(),
        ttl_seconds: args.ttl,
        extra: args.claims.clone(),
    };
    client::mint(secret.as_bytes(), alg, &spec)
}

fn arguments(
    strings: Vec<(String, String)>,
    json: Vec<(String, String)>,
) -> anyhow::Result<Map<String, Value>> {
    let mut map: Map<String, Value> = strings
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    for (k, v) in json {
        let value =
            serde_json::from_str(&v).with_context(|| format!("--arg-json {k}: not JSON"))?;
        map.insert(k, value);
    }
    Ok(map)
}

fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let token = if args.no_token {
        None
    } else {
        Some(mint(&args.token)?)
    };
    let body = client::request_body(
        &args.target,
        arguments(args.args, args.json_args)?,
        args.legacy,
        1,
    );
    let tls = client::Tls {
        ca_file: args.cacert,
        cert: args.cert.zip(args.key),
    };
    match client::send_with(&args.url, token.as_deref(), &body, &tls) {
        Ok(text) => {
            println!("{}", text.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn explain(
    path: &std::path::Path,
    roles: Vec<String>,
    claims: Vec<(String, String)>,
    target: &str,
    args: Vec<(String, String)>,
) -> anyhow::Result<ExitCode> {
    let policy = mcp_gatekeeper::policy_file::load(path)?;
    let body = client::request_body(target, arguments(args, vec![])?, false, 1);
    let Request::Single(call) = jsonrpc::parse(body.to_string().as_bytes())? else {
        return Err(anyhow!("expected a single call"));
    };
    let mut claim_map: Map<String, Value> = claims
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    claim_map.insert("user_id".into(), Value::String("explain".into()));
    let mut identity = mcp_gatekeeper::auth::identity_from_claims(claim_map)?;
    identity.roles = roles;
    let decision = policy.decide(&identity, &call);
    let verdict = if decision.allowed { "ALLOW" } else { "DENY" };
    println!(
        "{verdict} {} for roles [{}] by {} (policy {})",
        call.describe(),
        identity.roles.join(", "),
        decision.rule,
        policy.version()
    );
    if decision.allowed {
        for bucket in policy.buckets(&identity, &call) {
            let l = bucket.limit;
            let whose = match l.scope {
                mcp_gatekeeper::policy::Scope::User => "each user",
                mcp_gatekeeper::policy::Scope::Role => "the role",
                mcp_gatekeeper::policy::Scope::All => "all callers",
            };
            println!(
                "  rate limit '{}': one call per {:?} for {whose}, bursts of {}",
                l.name, l.interval, l.burst
            );
        }
    }
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
