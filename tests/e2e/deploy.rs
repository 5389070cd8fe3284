//! Deployment artefacts under `deploy/`: no container engine runs here, so this checks what can
//! be checked. The Dockerfile builds the very binary target these tests run and its CMD and
//! HEALTHCHECK are valid command lines; the compose file and Kubernetes manifests parse, refer
//! to files that exist and to each other consistently; and the configs they ship start the real
//! binary, which then answers the probe paths they name (also through `litellm-rs healthcheck`).

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

use crate::harness::{binary, repo, ProxyProcess};

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_yaml::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string: {cur:?}"))
}

/// The JSON-array form of a Dockerfile instruction (`CMD [...]`), as strings.
fn exec_form(line: &str) -> Vec<String> {
    let start = line
        .find('[')
        .unwrap_or_else(|| panic!("not exec form: {line}"));
    serde_json::from_str(&line[start..]).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Joins the Dockerfile's continuation lines into logical instructions.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') && cur.is_empty() {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(t);
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        }
    }
    out
}

#[test]
fn the_dockerfile_builds_the_binary_the_tests_run_and_its_commands_are_valid() {
    let ins = instructions(&read("deploy/Dockerfile"));
    let build = ins
        .iter()
        .find(|i| i.starts_with("RUN") && i.contains("cargo build"))
        .expect("a cargo build step");
    assert!(build.contains("--release"), "{build}");
    assert!(build.contains("--locked"), "{build}");
    // The target built is the binary these tests spawn.
    let bin_name = Path::new(binary()).file_name().unwrap().to_str().unwrap();
    assert!(build.contains(&format!("--bin {bin_name}")), "{build}");
    assert!(read("Cargo.toml").contains(&format!("[[bin]]\nname = \"{bin_name}\"")));
    assert!(
        build.contains(&format!("target/release/{bin_name}")),
        "{build}"
    );

    // Multi-stage, non-root, and everything it copies from the context exists.
    assert_eq!(ins.iter().filter(|i| i.starts_with("FROM")).count(), 2);
    let user = ins.iter().find(|i| i.starts_with("USER")).expect("USER");
    let name = user["USER".len()..].trim().split(':').next().unwrap();
    assert!(name != "root" && name != "0", "{user}");
    for copy in ins
        .iter()
        .filter(|i| i.starts_with("COPY") && !i.contains("--from"))
    {
        let parts: Vec<&str> = copy.split_whitespace().collect();
        let src = parts[1];
        assert!(repo().join(src).exists(), "{copy}: {src} is missing");
    }

    // CMD is a valid command line for the entrypoint, and the config it names is the one copied.
    let entry = exec_form(ins.iter().find(|i| i.starts_with("ENTRYPOINT")).unwrap());
    let cmd = exec_form(ins.iter().find(|i| i.starts_with("CMD")).unwrap());
    let argv: Vec<String> = entry.iter().chain(cmd.iter()).cloned().collect();
    let (cli, _) = litellm_cli::parse_args(&argv).expect("CMD parses");
    assert!(cli.command.is_none(), "CMD runs the proxy");
    assert_eq!(cli.port, 4000);
    assert_eq!(
        cli.config.as_deref(),
        Some(Path::new("/etc/litellm-rs/config.yaml"))
    );
    assert!(ins
        .iter()
        .any(|i| i.starts_with("COPY config/quickstart.yaml /etc/litellm-rs/config.yaml")));

    // HEALTHCHECK runs the built-in probe.
    let hc = ins
        .iter()
        .find(|i| i.starts_with("HEALTHCHECK"))
        .expect("HEALTHCHECK");
    let probe = exec_form(&hc[hc.find("CMD").unwrap()..]);
    let (cli, _) = litellm_cli::parse_args(&probe).expect("HEALTHCHECK command parses");
    assert!(matches!(
        cli.command,
        Some(litellm_cli::Command::Healthcheck { .. })
    ));
    // The build context leaves out build output and local databases.
    let ignore = read(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target/"), "{ignore}");
}

#[test]
fn the_compose_file_parses_and_refers_to_files_that_exist() {
    let dir = repo().join("deploy/compose");
    let c = yaml("deploy/compose/docker-compose.yml");
    let proxy = &c["services"]["litellm"];
    let context = dir.join(s(proxy, &["build", "context"]));
    assert_eq!(
        context.canonicalize().unwrap(),
        repo().canonicalize().unwrap()
    );
    assert!(context.join(s(proxy, &["build", "dockerfile"])).is_file());
    // Secrets come from .env, which users create from the committed example.
    assert_eq!(s(proxy, &["env_file"]), ".env");
    assert!(dir.join(".env.example").is_file());
    let example = std::fs::read_to_string(dir.join(".env.example")).unwrap();
    for var in ["LITELLM_MASTER_KEY", "POSTGRES_PASSWORD"] {
        assert!(
            example.contains(&format!("{var}=")),
            "{var} in .env.example"
        );
    }
    let mount = proxy["volumes"][0].as_str().unwrap();
    let (src, dst) = mount.split_once(':').unwrap();
    assert!(dir.join(src).is_file(), "{mount}");
    assert!(dst.starts_with("/etc/litellm-rs/config.yaml"), "{mount}");
    let db_url = s(proxy, &["environment", "DATABASE_URL"]);
    assert!(
        db_url.starts_with("postgresql://") && db_url.contains("@db:5432/"),
        "{db_url}"
    );
    assert_eq!(s(proxy, &["environment", "REDIS_HOST"]), "redis");
    for dep in ["db", "redis"] {
        assert!(c["services"][dep].is_mapping(), "service {dep}");
        assert_eq!(
            s(proxy, &["depends_on", dep, "condition"]),
            "service_healthy"
        );
    }
    let hc: Vec<String> = proxy["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .skip(1)
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let (cli, _) = litellm_cli::parse_args(&hc).expect("healthcheck parses");
    assert!(matches!(
        cli.command,
        Some(litellm_cli::Command::Healthcheck { .. })
    ));
}

#[test]
fn the_kubernetes_manifests_parse_and_agree_with_each_other() {
    let k = yaml("deploy/k8s/kustomization.yaml");
    let mut by_kind = std::collections::BTreeMap::new();
    for r in k["resources"].as_sequence().unwrap() {
        let rel = format!("deploy/k8s/{}", r.as_str().unwrap());
        let doc = yaml(&rel);
        by_kind.insert(s(&doc, &["kind"]).to_string(), doc);
    }
    for kind in [
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    ] {
        assert!(
            by_kind.contains_key(kind),
            "{kind} missing from kustomization"
        );
    }
    let dep = &by_kind["Deployment"];
    let pod = &dep["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    assert_eq!(
        s(&by_kind["ConfigMap"], &["metadata", "name"]),
        s(&pod["spec"]["volumes"][0], &["configMap", "name"])
    );
    assert_eq!(
        s(&by_kind["Secret"], &["metadata", "name"]),
        s(&container["envFrom"][0], &["secretRef", "name"])
    );
    let app = s(&pod["metadata"]["labels"], &["app.kubernetes.io/name"]);
    assert_eq!(
        s(
            &by_kind["Service"]["spec"]["selector"],
            &["app.kubernetes.io/name"]
        ),
        app
    );
    assert_eq!(
        s(
            &dep["spec"]["selector"]["matchLabels"],
            &["app.kubernetes.io/name"]
        ),
        app
    );
    assert_eq!(
        s(
            &by_kind["HorizontalPodAutoscaler"],
            &["spec", "scaleTargetRef", "name"]
        ),
        s(dep, &["metadata", "name"])
    );
    // The container args are a valid command line.
    let mut argv = vec!["litellm-rs".to_string()];
    argv.extend(
        container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string()),
    );
    let (cli, _) = litellm_cli::parse_args(&argv).expect("container args parse");
    assert_eq!(cli.port, 4000);
    // The Secret provides what the config refers to.
    let secret = &by_kind["Secret"]["stringData"];
    let config = s(&by_kind["ConfigMap"], &["data", "config.yaml"]);
    assert!(config.contains("os.environ/LITELLM_MASTER_KEY"));
    for var in ["LITELLM_MASTER_KEY", "DATABASE_URL", "REDIS_URL"] {
        assert!(secret[var].is_string(), "secret has {var}");
    }
}

/// The configs shipped for compose and Kubernetes start the real binary, which answers the
/// probe paths the manifests name, directly and through `litellm-rs healthcheck`.
#[tokio::test]
async fn the_shipped_configs_start_and_answer_their_probes() {
    let dep = yaml("deploy/k8s/deployment.yaml");
    let container = &dep["spec"]["template"]["spec"]["containers"][0];
    let live = s(container, &["livenessProbe", "httpGet", "path"]).to_string();
    let ready = s(container, &["readinessProbe", "httpGet", "path"]).to_string();
    let k8s_config = s(&yaml("deploy/k8s/configmap.yaml"), &["data", "config.yaml"]).to_string();
    let compose_config = read("deploy/compose/config.yaml");
    let master = "sk-deploy-test-master-key";
    let client = reqwest::Client::new();
    for config in [k8s_config, compose_config] {
        let proxy = ProxyProcess::start(&config, &[("LITELLM_MASTER_KEY", master)]).await;
        for path in [&live, &ready] {
            let r = client.get(proxy.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}: {}", proxy.stderr());
            let out = Command::new(binary())
                .args(["healthcheck", "--url", &proxy.url(path)])
                .output()
                .unwrap();
            assert!(out.status.success(), "{path}: {out:?}");
        }
        // The master key from the environment protects it, and the mock model answers.
        let r = client
            .post(proxy.url("/v1/chat/completions"))
            .json(&serde_json::json!({"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = client
            .post(proxy.url("/v1/chat/completions"))
            .bearer_auth(master)
            .json(&serde_json::json!({"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", proxy.stderr());
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Hello from litellm-rs"));
        let stderr = proxy.stderr();
        assert!(!stderr.contains("not supported yet"), "{stderr}");
        // The mock provider is free: no "no price" warning for a newcomer's first call.
        assert!(!stderr.contains("no price"), "{stderr}");
        assert!(!stderr.contains(master), "{stderr}");
    }
    // A stopped proxy is unhealthy to the probe.
    let out = Command::new(binary())
        .args([
            "healthcheck",
            "--url",
            "http://127.0.0.1:9/health/liveliness",
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
