// A real single-node Slurm for the sweep tests: munged, slurmctld and slurmd started in the
// foreground by this process (stopped by their pids), with the key, sockets, ports, state, spool
// and logs in a temporary folder, so nothing outside it is touched. Debian's `slurmctld`,
// `slurmd`, `slurm-client` and `munge` packages (`.ci/run` installs them with apt).
//
// Facts this relies on (checked with Slurm 22.05 on Debian 12): the daemons run as root without
// systemd; munged takes a key owned by its user (so the test writes its own) and a socket in a
// folder everyone may traverse; slurm.conf needs ProctrackType=proctrack/linuxproc,
// TaskPlugin=task/none, JobAcctGatherType=jobacct_gather/none and a node line with the short host
// name; GPUs can be faked with gres.conf lines whose File is any device (/dev/null).

const BINARIES = [
  "munged",
  "slurmctld",
  "slurmd",
  "sbatch",
  "squeue",
  "sinfo",
  "scontrol",
  "scancel",
];

async function which(bin: string): Promise<string | null> {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]) {
    try {
      const s = await Deno.stat(`${dir}/${bin}`);
      if (s.isFile) return `${dir}/${bin}`;
    } catch {
      // not here
    }
  }
  return null;
}

async function output(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { ok: out.success, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/**
 * Why Slurm cannot run here ("" when it can): a missing binary, or not running as root.
 */
export const SLURM_MISSING: string = await (async () => {
  const missing: string[] = [];
  for (const b of BINARIES) if (!await which(b)) missing.push(b);
  if (missing.length) {
    return `${
      missing.join(", ")
    } not installed (apt-get install slurmctld slurmd slurm-client munge)`;
  }
  try {
    const id = await output("id", ["-u"]);
    if (id.stdout.trim() !== "0") return "the test Slurm daemons need root";
  } catch {
    return "cannot run `id`";
  }
  return "";
})();

/** A running test cluster. */
export interface SlurmCluster {
  /** Environment for Slurm clients (SLURM_CONF). */
  env: Record<string, string>;
  /** The temporary folder with slurm.conf, the logs and the state. */
  dir: string;
  /** Runs a Slurm client command against this cluster. */
  run(cmd: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }>;
  /** Cancels every job, stops the daemons by pid and removes the folder. */
  stop(): Promise<void>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitFor(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
}

async function tail(path: string, n = 15): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts munged, slurmctld and slurmd with one node of `gpus` fake GPUs and this machine's CPUs.
 *
 * @param options `gpus` (default 2) and `memoryMb` per node (default 4096).
 * @returns The cluster; call `stop()` in `finally`.
 */
export async function startSlurm(
  options: { gpus?: number; memoryMb?: number } = {},
): Promise<SlurmCluster> {
  if (SLURM_MISSING) throw new Error(`Cannot start Slurm: ${SLURM_MISSING}`);
  const gpus = options.gpus ?? 2;
  const dir = await Deno.makeTempDir({ prefix: "marl-slurm-" });
  await Deno.chmod(dir, 0o755); // munged wants every folder above its socket traversable
  for (const d of ["state", "spool", "log"]) await Deno.mkdir(`${dir}/${d}`);
  const node = (await output("hostname", ["-s"])).stdout.trim();
  const cpus = Number((await output("nproc", [])).stdout.trim()) || 1;
  const key = crypto.getRandomValues(new Uint8Array(128));
  await Deno.writeFile(`${dir}/munge.key`, key, { mode: 0o600 });
  const socket = `${dir}/munge.sock`;
  const devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];
  if (gpus > devices.length) throw new RangeError(`Cannot fake ${gpus} GPUs: at most 5`);
  await Deno.writeTextFile(
    `${dir}/gres.conf`,
    ["AutoDetect=off", ...devices.slice(0, gpus).map((f) => `NodeName=${node} Name=gpu File=${f}`)]
      .join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/slurm.conf`,
    `ClusterName=marltest
SlurmctldHost=${node}
SlurmctldPort=${freePort()}
SlurmdPort=${freePort()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${socket}
CredType=cred/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
GresTypes=gpu
NodeName=${node} CPUs=${cpus} RealMemory=${options.memoryMb ?? 4096} Gres=gpu:${gpus} State=UNKNOWN
PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP
`,
  );
  const env = { SLURM_CONF: `${dir}/slurm.conf` };
  const daemons: { name: string; child: Deno.ChildProcess }[] = [];
  const spawn = async (name: string, args: string[]) => {
    const child = new Deno.Command((await which(name))!, {
      args,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    daemons.push({ name, child });
  };
  const run = (cmd: string, args: string[]) => output(cmd, args, env);
  const stop = async () => {
    // Jobs first (their processes outlive slurmd), then the daemons, newest first.
    await run("scancel", ["--full", "--user=root"]).catch(() => {});
    await waitFor("the jobs to end", 15_000, async () => {
      const q = await run("squeue", ["-h", "-t", "PD,R,CG,S"]).catch(() => null);
      return !q?.ok || q.stdout.trim() === "";
    }).catch(() => {});
    for (const d of daemons.reverse()) {
      try {
        d.child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          d.child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await d.child.status;
      clearTimeout(timer);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await spawn("munged", [
      "-F",
      `--socket=${socket}`,
      `--key-file=${dir}/munge.key`,
      `--log-file=${dir}/log/munged.log`,
      `--pid-file=${dir}/munged.pid`,
      `--seed-file=${dir}/munged.seed`,
    ]);
    await waitFor("munged's socket", 10_000, async () => {
      try {
        return (await Deno.stat(socket)).isSocket === true;
      } catch {
        return false;
      }
    });
    await spawn("slurmctld", ["-D", "-i"]);
    await spawn("slurmd", ["-D"]);
    await waitFor("the node to be idle", 30_000, async () => {
      const s = await run("sinfo", ["-h", "-o", "%T"]);
      return s.ok && s.stdout.trim() === "idle";
    });
  } catch (e) {
    const logs = [
      `slurmctld.log:\n${await tail(`${dir}/log/slurmctld.log`)}`,
      `slurmd.log:\n${await tail(`${dir}/log/slurmd.log`)}`,
      `munged.log:\n${await tail(`${dir}/log/munged.log`)}`,
    ].join("\n");
    await stop();
    throw new Error(`Cannot start Slurm: ${(e as Error).message}\n${logs}`);
  }
  return { env, dir, run, stop };
}
