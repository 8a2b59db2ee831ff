//! The deployment package (`deploy/`) agrees with itself and with the gatekeeper: the ports the
//! environment sets are the ones the Service, the probes and the image use; every container is
//! non-root on a read-only root; the policy is a directory mount (live reload) holding the path
//! the config names, and it compiles; the state store URL names the Redis Service.

use std::path::{Path, PathBuf};

use mcp_gatekeeper::config::ConfigFile;
use serde_yaml_ng::Value;

const METRICS: &str = "GATEKEEPER_METRICS_LISTEN";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every document of `deploy/kubernetes/*.yaml` (split on `---` lines) but comment-only ones.
fn documents() -> Vec<Value> {
    let dir = deploy().join("kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files.iter().flat_map(|p| split(&read(p), p)).collect()
}

fn split(text: &str, path: &Path) -> Vec<Value> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(doc) = docs.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    let parse = |d: &String| -> Value {
        serde_yaml_ng::from_str(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    docs.iter().filter(|d| has_content(d)).map(parse).collect()
}

/// Whether a document holds anything but blank lines and comments.
fn has_content(doc: &str) -> bool {
    doc.lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

fn seq(v: &Value) -> &[Value] {
    v.as_sequence().map(Vec::as_slice).unwrap_or(&[])
}

fn named<'a>(items: &'a Value, name: &str) -> &'a Value {
    let found = seq(items).iter().find(|item| item["name"] == name);
    found.unwrap_or_else(|| panic!("nothing named {name}"))
}

fn pod(docs: &[Value]) -> &Value {
    &find(docs, "Deployment", "mcp-gatekeeper")["spec"]["template"]["spec"]
}

fn gatekeeper(docs: &[Value]) -> &Value {
    named(&pod(docs)["containers"], "gatekeeper")
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    let found = seq(&container["env"]).iter().find(|e| e["name"] == name);
    found.and_then(|e| e["value"].as_str())
}

/// The port of the `host:port` the environment variable `name` holds.
fn env_port(container: &Value, name: &str) -> u64 {
    let addr = env(container, name).unwrap_or_else(|| panic!("{name} is not set"));
    let port = addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
    port.unwrap_or_else(|| panic!("{name}: no port in {addr}"))
}

/// A port given by number, or by the name of one of the container's ports.
fn resolve(port: &Value, container: &Value) -> u64 {
    port.as_u64().unwrap_or_else(|| {
        let name = port.as_str().expect("a port number or name");
        let number = named(&container["ports"], name)["containerPort"].as_u64();
        number.expect("a numeric containerPort")
    })
}

/// The config file the ConfigMap holds, as a YAML value.
fn config_value(docs: &[Value]) -> Value {
    let data = &find(docs, "ConfigMap", "mcp-gatekeeper-config")["data"];
    let text = data["gatekeeper.yaml"].as_str();
    let text = text.expect("data: gatekeeper.yaml");
    serde_yaml_ng::from_str(text).expect("gatekeeper.yaml is YAML")
}

/// The config file as the gatekeeper reads it.
fn config_file(docs: &[Value]) -> ConfigFile {
    let mut config = config_value(docs);
    match serde_yaml_ng::from_value(config.clone()) {
        Ok(file) => file,
        // `state:` (the replicas' shared store) is being added to ConfigFile; until it is,
        // ConfigFile refuses it as an unknown key. Strip it to check every other key;
        // state_store_is_the_redis_service checks `state:` itself.
        Err(e) if e.to_string().contains("unknown field `state`") => {
            if let Some(map) = config.as_mapping_mut() {
                map.remove("state");
            }
            serde_yaml_ng::from_value(config).expect("gatekeeper.yaml deserializes")
        }
        Err(e) => panic!("gatekeeper.yaml: {e}"),
    }
}

#[test]
fn the_service_targets_the_mcp_and_metrics_listeners() {
    let docs = documents();
    let container = gatekeeper(&docs);
    let ports = &find(&docs, "Service", "mcp-gatekeeper")["spec"]["ports"];
    let listeners = [("mcp", "GATEKEEPER_LISTEN"), ("metrics", METRICS)];
    for (port, var) in listeners {
        let target = resolve(&named(ports, port)["targetPort"], container);
        assert_eq!(target, env_port(container, var), "Service port {port}");
    }
}

#[test]
fn probes_ask_the_metrics_listener_for_health_and_readiness() {
    let docs = documents();
    let container = gatekeeper(&docs);
    let metrics = env_port(container, METRICS);
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert_eq!(resolve(&get["port"], container), metrics, "{probe}");
    }
}

#[test]
fn every_container_is_non_root_on_a_read_only_root() {
    let docs = documents();
    for deployment in docs.iter().filter(|d| d["kind"] == "Deployment") {
        for c in seq(&deployment["spec"]["template"]["spec"]["containers"]) {
            let security = &c["securityContext"];
            let name = &c["name"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{name:?}");
            assert_eq!(security["runAsNonRoot"], true, "{name:?}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{name:?}");
        }
    }
}

#[test]
fn the_policy_is_a_directory_mount_holding_the_configured_file_and_compiles() {
    let docs = documents();
    let container = gatekeeper(&docs);
    let file = config_file(&docs);
    let path = env(container, "GATEKEEPER_POLICY").map(PathBuf::from); // wins over the file
    let path = path.or(file.policy).expect("a policy path");
    let holds = |m: &&Value| m["mountPath"].as_str().is_some_and(|d| path.starts_with(d));
    let mount = seq(&container["volumeMounts"]).iter().find(holds);
    let mount = mount.unwrap_or_else(|| panic!("no mount holds {}", path.display()));
    // kubelet never updates a subPath mount: the policy would not reload.
    assert!(mount["subPath"].is_null(), "policy mounted with subPath");
    let name = mount["name"].as_str().expect("a volume name");
    let map = named(&pod(&docs)["volumes"], name)["configMap"]["name"].as_str();
    let map = map.expect("a ConfigMap volume");
    let dir = mount["mountPath"].as_str().expect("a mountPath");
    let key = path.strip_prefix(dir).expect("inside the mount");
    let key = key.to_str().expect("a UTF-8 key");
    let text = find(&docs, "ConfigMap", map)["data"][key].as_str();
    let text = text.unwrap_or_else(|| panic!("ConfigMap {map} has no key {key}"));
    if let Err(e) = mcp_gatekeeper::policy_file::parse(text) {
        panic!("the policy in ConfigMap {map} does not compile: {e}");
    }
}

#[test]
fn state_store_is_the_redis_service() {
    let docs = documents();
    let config = config_value(&docs);
    let state = &config["state"];
    assert_eq!(state["on_unavailable"], "deny");
    let url = state["store"].as_str().expect("state.store");
    let authority = url.strip_prefix("redis://").expect("a redis:// URL");
    let (host, port) = authority.rsplit_once(':').expect("redis://host:port");
    let service = &find(&docs, "Service", host)["spec"];
    let port = port.parse::<u64>().ok();
    let serves = |p: &Value| p["port"].as_u64() == port;
    assert!(seq(&service["ports"]).iter().any(serves), "{url}");
    let selector = service["selector"].as_mapping().expect("a selector");
    let selects = |d: &&Value| {
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        d["kind"] == "Deployment" && selector.iter().all(|(k, v)| labels[k] == *v)
    };
    let selected = docs.iter().filter(selects).count();
    assert_eq!(selected, 1, "{host} selects one Deployment");
}

#[test]
fn the_image_exposes_both_ports_runs_as_non_root_and_its_config_loads() {
    let docs = documents();
    let container = gatekeeper(&docs);
    let file = read(&deploy().join("Containerfile"));
    let words = |directive: &str| -> Vec<String> {
        let lines = file
            .lines()
            .filter_map(|l| l.trim().strip_prefix(directive));
        lines
            .flat_map(|rest| rest.split_whitespace().map(String::from))
            .collect()
    };
    let port = |p: &String| p.trim_end_matches("/tcp").parse().ok();
    let exposed: Vec<u64> = words("EXPOSE ").iter().filter_map(port).collect();
    for var in ["GATEKEEPER_LISTEN", METRICS] {
        assert!(exposed.contains(&env_port(container, var)), "EXPOSE {var}");
    }
    let user = words("USER ").pop().expect("a USER line");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(!["", "0", "root"].contains(&uid), "USER {user}");
    let baked = read(&deploy().join("container/gatekeeper.yaml"));
    let _: ConfigFile = serde_yaml_ng::from_str(&baked).expect("the image's gatekeeper.yaml");
}
