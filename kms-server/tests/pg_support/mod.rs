//! A private PostgreSQL for tests: Debian's `postgresql` package (`.ci/run` installs it), its own data directory
//! in a temp dir, a free loopback port, TLS on (a throw-away CA made with the `openssl` tool), password
//! (SCRAM) authentication, run as a non-root user (`postgres`, which the package creates, when the tests run as
//! root). Stopped (immediately) and removed on drop. Free of qkms types, so that any crate's tests can include it
//! (`pg_options` adds the store options).
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The database role the tests connect as, and its password.
pub const USER: &str = "qkms";
pub const PASSWORD: &str = "test-password-Ae3";

/// One running PostgreSQL server.
pub struct PgServer {
    pub port: u16,
    /// The CA that signed the server's certificate (for `[store] tls_ca_file`).
    pub ca_file: PathBuf,
    pub password_file: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    dir: tempfile::TempDir,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install postgresql; .ci/run does)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .expect("a PostgreSQL version under /usr/lib/postgresql/*/bin")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn check(what: &str, output: Output) -> Output {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl tool runs");
    check(&format!("openssl {args:?}"), output);
}

impl PgServer {
    /// initdb, TLS material, start; waits until it accepts connections.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_as = is_root().then(|| "postgres".to_owned());
        let root = dir.path().to_owned();
        let root = root.as_path();
        // The throw-away CA and the server's certificate (127.0.0.1 and localhost).
        openssl(
            root,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=qkms test database CA",
            ],
        );
        openssl(
            root,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(
            root.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(
            root,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
        );
        let password_file = root.join("db.pass");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let mut server = Self {
            port: free_port(),
            ca_file: root.join("ca.pem"),
            password_file,
            data: root.join("data"),
            bin: bin_dir(),
            run_as,
            dir,
        };
        if let Some(user) = &server.run_as {
            let status = Command::new("chown")
                .args(["-R", &format!("{user}:{user}")])
                .arg(root)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown the test database directory");
        }
        let initdb = server.bin.join("initdb");
        let out = server.run(
            Command::new(&initdb)
                .arg("-D")
                .arg(&server.data)
                .args([
                    "-U",
                    USER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                ])
                .arg(format!("--pwfile={}", server.password_file.display())),
        );
        check("initdb", out);
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{data}'\n\
             max_connections = 200\nssl = on\nssl_cert_file = '{root}/server.pem'\n\
             ssl_key_file = '{root}/server.key'\nfsync = on\nsynchronous_commit = on\n",
            port = server.port,
            data = server.data.display(),
            root = root.display(),
        );
        append(&server.data.join("postgresql.conf"), &conf);
        std::fs::write(
            server.data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        // The port was free when picked; a test starting another server at the same moment may take it first.
        for _ in 0..5 {
            match server.try_start() {
                Ok(()) => return server,
                Err(log) if log.contains("already in use") => {
                    server.port = free_port();
                    append(
                        &server.data.join("postgresql.conf"),
                        &format!("port = {}\n", server.port),
                    );
                }
                Err(log) => panic!("pg_ctl start failed:\n{log}"),
            }
        }
        panic!("no free port for the test database after 5 attempts");
    }

    fn run(&self, command: &mut Command) -> Output {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let mut actual = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program).args(args);
                c
            }
            None => {
                let mut c = Command::new(program);
                c.args(args);
                c
            }
        };
        actual.output().expect("a PostgreSQL tool runs")
    }

    /// `pg_ctl start`, waiting until it accepts connections; `Err` holds pg_ctl's output and the server log.
    fn try_start(&self) -> Result<(), String> {
        let out = self.run(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(self.data.join("server.log"))
                .args(["-w", "-t", "60", "start"]),
        );
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default();
        Err(format!("{}\n{log}", String::from_utf8_lossy(&out.stderr)))
    }

    fn ctl_start(&self) {
        if let Err(log) = self.try_start() {
            panic!("pg_ctl start failed:\n{log}");
        }
    }

    /// Stops the server at once (like a crash: `-m immediate`).
    pub fn stop_immediately(&self) {
        let _ = self.run(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]),
        );
    }

    /// Starts it again after [`Self::stop_immediately`].
    pub fn restart(&self) {
        self.ctl_start();
    }

    /// Runs SQL through `psql` on the local socket (trust), in `database`.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = self.run(
            Command::new(self.bin.join("psql"))
                .arg("-h")
                .arg(&self.data)
                .args(["-p", &self.port.to_string(), "-U", USER, "-d", database])
                .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql]),
        );
        String::from_utf8_lossy(&check("psql", out).stdout)
            .trim()
            .to_owned()
    }

    /// Like [`Self::psql`], but a failing statement is `Err` with psql's message instead of a panic.
    pub fn try_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = self.run(
            Command::new(self.bin.join("psql"))
                .arg("-h")
                .arg(&self.data)
                .args(["-p", &self.port.to_string(), "-U", USER, "-d", database])
                .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql]),
        );
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// A new empty database; its URL (no password: that goes in the password file).
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgresql://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// `pg_dump` of `database` (plain SQL; bytea in hex).
    pub fn dump(&self, database: &str) -> String {
        let out = self.run(
            Command::new(self.bin.join("pg_dump"))
                .arg("-h")
                .arg(&self.data)
                .args(["-p", &self.port.to_string(), "-U", USER, database]),
        );
        String::from_utf8_lossy(&check("pg_dump", out).stdout).into_owned()
    }

    /// Waits until `probe` holds (at most `limit`).
    pub fn wait_until(limit: Duration, mut probe: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if probe() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops every process of the database (SIGSTOP: the postmaster and its children): statements sent to it
    /// hang, connections stay open. [`Self::thaw`] continues them.
    pub fn freeze(&self) {
        self.signal_all("-STOP");
    }

    pub fn thaw(&self) {
        self.signal_all("-CONT");
    }

    fn signal_all(&self, signal: &str) {
        let pid =
            std::fs::read_to_string(self.data.join("postmaster.pid")).expect("postmaster.pid");
        let postmaster = pid
            .lines()
            .next()
            .expect("the postmaster's pid")
            .trim()
            .to_owned();
        let children = Command::new("pgrep")
            .args(["-P", &postmaster])
            .output()
            .expect("pgrep runs");
        let mut pids: Vec<String> = String::from_utf8_lossy(&children.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        pids.push(postmaster);
        let status = Command::new("kill")
            .arg(signal)
            .args(&pids)
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pids:?}");
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop_immediately();
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
