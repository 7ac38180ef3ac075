import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { validateConfig } from "../../app/config.ts";
import { explainError, settingsFor } from "../../app/errors.ts";

const SEAC = validateConfig({
  numEnvs: 4096,
  env: "rware-tiny-4ag",
  algo: { name: "seac", hidden: 64 },
});
const IDQN = validateConfig({ numEnvs: 8, env: "pursuit", algo: { name: "idqn" } });

Deno.test("explainError() names the path and what to do for OS errors", () => {
  const cases: [Error, Parameters<typeof explainError>[2], string][] = [
    [
      new Deno.errors.IsADirectory("Is a directory (os error 21): readfile 'runs/x'"),
      { action: "read config" },
      'Cannot read config "runs/x": it is a directory, not a file (give a file in it)',
    ],
    [
      new Deno.errors.NotFound("No such file or directory (os error 2): readfile 'a/b.yaml'"),
      {},
      'Cannot read "a/b.yaml": no such file or folder (check the path)',
    ],
    [
      new Deno.errors.NotADirectory("Not a directory (os error 20)"),
      { path: "runs/file/x", action: "create folder" },
      'Cannot create folder "runs/file/x": a part of the path is a file, not a folder (check the path)',
    ],
    [
      new Deno.errors.AlreadyExists("File exists (os error 17): mkdir 'runs/a'"),
      {},
      'Cannot create folder "runs/a": it already exists (choose another name or remove it)',
    ],
    [
      new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/etc/x'"),
      {},
      'Cannot open "/etc/x": permission denied by the operating system (check the owner and mode)',
    ],
    [
      new Error("No space left on device (os error 28): writefile 'runs/a/metrics.jsonl'"),
      {},
      'Cannot write "runs/a/metrics.jsonl": the disk is full (free space or write elsewhere, e.g. --root)',
    ],
    [
      new Deno.errors.NotCapable(
        'Requires write access to "runs", run again with the --allow-write flag',
      ),
      {},
      'Cannot write "runs": Deno was not given write permission (run with --allow-write, as deno task run does)',
    ],
  ];
  for (const [e, context, want] of cases) assertEquals(explainError(e, null, context), want);
});

Deno.test("explainError() names the settings to lower for GPU-limit errors", () => {
  const bind = new RangeError(
    'Cannot bind "seac.act.actor.l0.y" to "linear.forward": 268435456 bytes exceed the ' +
      "device's maxStorageBufferBindingSize (134217728)",
  );
  assertEquals(
    explainError(bind, SEAC),
    "Cannot build seac on rware-tiny-4ag: one GPU array (seac.act.actor.l0.y) needs 256 MiB, the " +
      "adapter allows 128 MiB per binding (maxStorageBufferBindingSize); lower numEnvs (now 4096) " +
      "or algo.hidden (now 64)",
  );
  const buffer = new RangeError(
    'Cannot create "idqn.replay.obs": needs 3000000000 bytes, device allows 2147483648 per buffer',
  );
  assertEquals(
    explainError(buffer, IDQN),
    "Cannot build idqn on pursuit: one GPU buffer (idqn.replay.obs) needs 2861 MiB, the adapter " +
      "allows 2048 MiB per buffer (maxBufferSize); lower algo.bufferSize (now 120000)",
  );
  const dispatch = new RangeError(
    'Cannot dispatch "seac.learn.loss": needs 70000×1 workgroups, device allows 65535 per dimension',
  );
  assertEquals(
    explainError(dispatch, SEAC),
    "Cannot run seac on rware-tiny-4ag: kernel seac.learn.loss needs 70000×1 workgroups, the " +
      "adapter allows 65535 per dimension; lower numEnvs (now 4096) or algo.hidden (now 64)",
  );
  // Without a config the settings are named without values.
  assertEquals(settingsFor("seac.act.actor.l0.y", null), [
    "numEnvs",
    "algo.hidden",
    "algo.hidden2",
    "algo.dense",
    "algo.embed",
  ]);
  assertEquals(settingsFor("dials.aip.dataset.inputs", null).slice(0, 1), ["algo.datasetSize"]);
});

Deno.test("explainError() keeps the project's own messages and anything unknown", () => {
  const own = new TypeError('Cannot read config "x.yaml": unknown key "algo.lr"');
  assertEquals(explainError(own, null), own.message);
  assertEquals(explainError("plain text", null), "plain text");
  const compile = new RangeError(
    'Cannot compile "big.kernel": binds 10 storage buffers, device allows 8 per shader stage (maxStorageBuffersPerShaderStage)',
  );
  assertEquals(
    explainError(compile, SEAC),
    "Cannot build seac on rware-tiny-4ag: kernel big.kernel binds 10 storage buffers and this " +
      "adapter allows 8 (no setting changes this; use an adapter with more, or report it as a " +
      "bug: every kernel should fit 8)",
  );
});
