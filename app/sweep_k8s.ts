/**
 * What a sweep looks like as a Kubernetes Indexed Job (`deno task sweep --backend k8s` writes and
 * prints it; it applies nothing). One completion index per cell: the pod runs the same
 * `app/sweep.ts cell <dir> $(JOB_COMPLETION_INDEX)` that a Slurm array task runs, on a
 * PersistentVolumeClaim that holds the sweep folder. A cell that exits 75 after a SIGTERM
 * (eviction, preemption, node drain) is retried without counting against its retries
 * (`podFailurePolicy` action `Ignore`, which needs `restartPolicy: Never`), and the retry resumes
 * from the checkpoint on the volume. `backoffLimitPerIndex` needs Kubernetes 1.29 or newer.
 *
 * @module
 */
import { cellCommandArgs, RESUME_EXIT_CODE, type SweepFile } from "./sweep_files.ts";

/**
 * The Indexed Job manifest of a sweep, as a plain object (YAML-ready).
 *
 * @param sweep The cells and the `k8s` and `resources` settings.
 * @returns The manifest.
 */
export function k8sManifest(sweep: SweepFile): Record<string, unknown> {
  const k = sweep.k8s, r = sweep.resources;
  const n = sweep.cells.length;
  const dir = `${k.mountPath.replace(/\/+$/, "")}/${sweep.name}`;
  const limits: Record<string, string | number> = {};
  if (r.gpus > 0) limits["nvidia.com/gpu"] = r.gpus;
  if (r.cpus > 0) limits.cpu = r.cpus;
  if (r.mem) limits.memory = r.mem.replace(/([KMGT])$/i, "$1i");
  const name = `sweep-${sweep.name.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`.slice(0, 52);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: k.namespace, labels: { app: "marl-webgpu-sweep" } },
    spec: {
      completionMode: "Indexed",
      completions: n,
      parallelism: sweep.parallel > 0 ? sweep.parallel : n,
      backoffLimitPerIndex: k.retries,
      podFailurePolicy: {
        rules: [
          {
            action: "Ignore",
            onExitCodes: { containerName: "cell", operator: "In", values: [RESUME_EXIT_CODE] },
          },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
        ],
      },
      template: {
        metadata: { labels: { app: "marl-webgpu-sweep" } },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: sweep.slurm.grace,
          containers: [{
            name: "cell",
            image: k.image,
            workingDir: k.repo,
            command: ["deno", ...cellCommandArgs(dir, "$(JOB_COMPLETION_INDEX)")],
            // WebGPU runs on Vulkan: the NVIDIA runtime mounts its Vulkan ICD for "graphics".
            ...(r.gpus > 0
              ? { env: [{ name: "NVIDIA_DRIVER_CAPABILITIES", value: "compute,utility,graphics" }] }
              : {}),
            ...(Object.keys(limits).length ? { resources: { limits } } : {}),
            volumeMounts: [{ name: "sweeps", mountPath: k.mountPath }],
          }],
          volumes: [{ name: "sweeps", persistentVolumeClaim: { claimName: k.volumeClaim } }],
        },
      },
    },
  };
}

/**
 * The manifest as YAML text.
 *
 * @param sweep The cells and settings.
 * @returns YAML text.
 */
export async function k8sManifestYaml(sweep: SweepFile): Promise<string> {
  const { stringify } = await import("yaml");
  return `# Kubernetes Indexed Job for sweep "${sweep.name}" (${sweep.cells.length} cells), written by\n` +
    `# \`deno task sweep --backend k8s\`. The sweep folder must be on the claim at ` +
    `${sweep.k8s.mountPath}/${sweep.name}.\n` + stringify(k8sManifest(sweep));
}
