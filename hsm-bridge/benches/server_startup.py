#!/usr/bin/env python3
# Start-up time of qkms-server, spawn to "listening for KMIP", for passphrase vs HSM custody (SoftHSM2).
# Usage: python3 hsm-bridge/benches/server_startup.py target/debug/qkms-server [RUNS]   (needs softhsm2-util)
import os, subprocess, sys, tempfile, time, statistics
B = sys.argv[1]; runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
base = tempfile.mkdtemp()
tokdir = os.path.join(base, "tokens"); os.mkdir(tokdir)
conf = os.path.join(base, "softhsm2.conf")
open(conf, "w").write(f"directories.tokendir = {tokdir}\nobjectstore.backend = file\nlog.level = ERROR\n")
env = dict(os.environ, SOFTHSM2_CONF=conf, RUST_LOG="warn,kms_server::server=info")
subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", "1111", "--pin", "2222"], env=env, check=True, capture_output=True)
pin = os.path.join(base, "pin"); open(pin, "w").write("2222\n")
def init(name, extra):
    d = os.path.join(base, name)
    subprocess.run([B, "--init", d] + extra, env=env, check=True, capture_output=True)
    return os.path.join(d, "qkms.toml")
HSM = ["--root-key", "pkcs11", "--hsm-module", "/usr/lib/softhsm/libsofthsm2.so", "--hsm-token-label", "bench", "--hsm-pin-file", pin]
def holding(cfg):
    # [hsm] hold_keys = true and [hsm.rng] enabled = true: held keys allowed, the HSM's generator in the pool.
    text = open(cfg).read().replace("hold_keys = false", "hold_keys = true").replace("[hsm.rng]\nenabled = false", "[hsm.rng]\nenabled = true")
    open(cfg, "w").write(text)
    return cfg
cfgs = {
    "passphrase (argon2id 64 MiB, 3 passes)": init("pass", []),
    "pkcs11 (SoftHSM2, CKM_AES_KEY_WRAP_PAD)": init("hsm", HSM),
    "pkcs11 + [hsm] hold_keys + [hsm.rng] (HSM generator in the pool)": holding(init("hold", HSM)),
}
for name, cfg in cfgs.items():
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen([B, "--config", cfg, "--listen", "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        for line in p.stderr:
            if "listening for KMIP" in line:
                times.append(time.monotonic() - t0); break
        p.kill(); p.wait()
    times.sort()
    print(f"{name}: median {statistics.median(times)*1000:.0f} ms, min {times[0]*1000:.0f} ms, max {times[-1]*1000:.0f} ms over {runs} starts")
